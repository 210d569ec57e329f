namespace Outpost.Grains.TenantQuotas;

/// <summary>A tenant's budgets and rate limits.</summary>
/// <param name="BudgetMicros">Spend allowed per period, in micro-dollars (1 USD = 1,000,000).</param>
/// <param name="Period">When the budget resets.</param>
/// <param name="RequestsPerMinute">Requests allowed per minute across the tenant; 0 means no limit.</param>
/// <param name="TokensPerMinute">Model tokens allowed per minute across the tenant; 0 means no limit.</param>
/// <param name="SoftLimitPercent">Share of the budget after which work is kept on the edge (1-100).</param>
/// <param name="CloudFallbackAllowed">Whether requests may go to a paid cloud model at all (opt-in).</param>
/// <param name="ClientBudgetsMicros">
/// Optional sub-budgets per OAuth client id, in micro-dollars per period. A client without an entry is bounded only by
/// the tenant's budget. Null and empty mean the same: no client sub-budgets.
/// </param>
/// <param name="KindBudgetsMicros">
/// Optional sub-budgets per task kind (<c>embed</c>, <c>generate</c>, <c>messages</c>, <c>execute</c>, ...), in
/// micro-dollars per period. A kind without an entry is bounded only by the tenant's budget.
/// </param>
/// <param name="ResetAtUtc">
/// The time of day (UTC, from midnight, under 24 h) at which a period starts: daily periods start every day at this
/// time, monthly periods on the first day of the month at this time.
/// </param>
/// <param name="EdgeContinuesOverBudget">
/// <param name="AllowCloudOverSoftLimit">Whether cloud-only requests may still run once spend has passed the soft limit.</param>
/// Whether free work (a reservation with <c>Paid = false</c>, such as edge-only work at zero marginal cost) may
/// continue once a money budget is used up. Free work never consumes money budgets either way.
/// </param>
[GenerateSerializer, Immutable, Alias("outpost.TenantLimits")]
public sealed record TenantLimits(
    [property: Id(0)] long BudgetMicros,
    [property: Id(1)] BudgetPeriod Period,
    [property: Id(2)] int RequestsPerMinute,
    [property: Id(3)] long TokensPerMinute,
    [property: Id(4)] int SoftLimitPercent = 80,
    [property: Id(5)] bool CloudFallbackAllowed = false,
    [property: Id(6)] IReadOnlyDictionary<string, long>? ClientBudgetsMicros = null,
    [property: Id(7)] IReadOnlyDictionary<string, long>? KindBudgetsMicros = null,
    [property: Id(8)] TimeSpan ResetAtUtc = default,
    [property: Id(9)] bool EdgeContinuesOverBudget = true,
    [property: Id(10)] bool AllowCloudOverSoftLimit = false)
{
    /// <summary>Returns the first problem with these limits, or null when they are valid.</summary>
    public string? Validate()
    {
        if (BudgetMicros < 0)
        {
            return "budgetMicros must be zero or more.";
        }

        if (!Enum.IsDefined(Period))
        {
            return $"period '{Period}' is not one of: {string.Join(", ", Enum.GetNames<BudgetPeriod>())}.";
        }

        if (RequestsPerMinute < 0)
        {
            return "requestsPerMinute must be zero (no limit) or more.";
        }

        if (TokensPerMinute < 0)
        {
            return "tokensPerMinute must be zero (no limit) or more.";
        }

        if (SoftLimitPercent is < 1 or > 100)
        {
            return "softLimitPercent must be between 1 and 100.";
        }

        if (ResetAtUtc < TimeSpan.Zero || ResetAtUtc >= TimeSpan.FromDays(1))
        {
            return "resetAtUtc must be a time of day from 00:00:00 up to, not including, 24:00:00.";
        }

        if (ResetAtUtc.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            return "resetAtUtc must be a whole number of seconds.";
        }

        return ValidateBudgets(ClientBudgetsMicros, "clientBudgetsMicros") ?? ValidateBudgets(KindBudgetsMicros, "kindBudgetsMicros");
    }

    /// <summary>Value equality, including the contents of the sub-budget maps (null and empty are equal).</summary>
    public bool Equals(TenantLimits? other) =>
        other is not null
        && BudgetMicros == other.BudgetMicros
        && Period == other.Period
        && RequestsPerMinute == other.RequestsPerMinute
        && TokensPerMinute == other.TokensPerMinute
        && SoftLimitPercent == other.SoftLimitPercent
        && CloudFallbackAllowed == other.CloudFallbackAllowed
        && ResetAtUtc == other.ResetAtUtc
        && EdgeContinuesOverBudget == other.EdgeContinuesOverBudget
        && AllowCloudOverSoftLimit == other.AllowCloudOverSoftLimit
        && SameBudgets(ClientBudgetsMicros, other.ClientBudgetsMicros)
        && SameBudgets(KindBudgetsMicros, other.KindBudgetsMicros);

    public override int GetHashCode() => HashCode.Combine(
        HashCode.Combine(BudgetMicros, Period, RequestsPerMinute, TokensPerMinute, SoftLimitPercent, CloudFallbackAllowed),
        ResetAtUtc,
        EdgeContinuesOverBudget,
        AllowCloudOverSoftLimit,
        ClientBudgetsMicros?.Count ?? 0,
        KindBudgetsMicros?.Count ?? 0);

    private static string? ValidateBudgets(IReadOnlyDictionary<string, long>? budgets, string field)
    {
        foreach (var (key, value) in budgets ?? new Dictionary<string, long>())
        {
            if (string.IsNullOrWhiteSpace(key))
            {
                return $"{field} must not have an empty key.";
            }

            if (value < 0)
            {
                return $"{field}['{key}'] must be zero or more.";
            }
        }

        return null;
    }

    private static bool SameBudgets(IReadOnlyDictionary<string, long>? left, IReadOnlyDictionary<string, long>? right)
    {
        if ((left?.Count ?? 0) != (right?.Count ?? 0))
        {
            return false;
        }

        foreach (var (key, value) in left ?? new Dictionary<string, long>())
        {
            if (!right!.TryGetValue(key, out var other) || other != value)
            {
                return false;
            }
        }

        return true;
    }
}
