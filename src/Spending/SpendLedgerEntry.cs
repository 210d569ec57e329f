namespace Outpost.Spending;

/// <summary>One committed charge in <c>outpost_spend_ledger</c>.</summary>
/// <param name="TenantId">The tenant charged.</param>
/// <param name="ClientId">The OAuth client the work was for.</param>
/// <param name="Kind">The task kind.</param>
/// <param name="Target">Where the work ran.</param>
/// <param name="RequestId">The caller's request id.</param>
/// <param name="ReservationId">The reservation settled; at most one row per reservation.</param>
/// <param name="CostMicros">What was charged against the budgets.</param>
/// <param name="ActualCostMicros">The cost the caller reported; more than <paramref name="CostMicros"/> when the charge was capped.</param>
/// <param name="InputTokens">Input tokens the work used.</param>
/// <param name="OutputTokens">Output tokens the work used.</param>
/// <param name="Paid">Whether the work was paid work (free work is recorded with zero cost).</param>
/// <param name="PeriodStart">The budget period the charge counts in.</param>
/// <param name="CommittedAt">When the row was written (set by the database; null on a row not yet appended).</param>
/// <param name="Id">The row's id (set by the database; ascending in the order rows were written).</param>
public sealed record SpendLedgerEntry(
    string TenantId,
    string ClientId,
    string Kind,
    string Target,
    string RequestId,
    string ReservationId,
    long CostMicros,
    long ActualCostMicros,
    int InputTokens,
    int OutputTokens,
    bool Paid,
    DateTimeOffset PeriodStart,
    DateTimeOffset? CommittedAt = null,
    long Id = 0);
