
namespace Outpost.Gateway.Contracts;

public sealed record SpendBudget(
    long BudgetMicros, long CommittedMicros, long ReservedMicros, long RemainingMicros, bool SoftLimitReached, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd);
