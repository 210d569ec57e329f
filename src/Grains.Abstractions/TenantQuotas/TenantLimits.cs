namespace Outpost.Grains.TenantQuotas;

/// <summary>A tenant's budgets and rate limits.</summary>
/// <param name="BudgetMicros">Spend allowed per period, in micro-dollars (1 USD = 1,000,000).</param>
/// <param name="Period">When the budget resets.</param>
/// <param name="RequestsPerMinute">Requests allowed per minute across the tenant; 0 means no limit.</param>
/// <param name="TokensPerMinute">Model tokens allowed per minute across the tenant; 0 means no limit.</param>
/// <param name="SoftLimitPercent">Share of the budget after which work is kept on the edge (1-100).</param>
/// <param name="CloudFallbackAllowed">Whether requests may go to a paid cloud model at all (opt-in).</param>
[GenerateSerializer, Immutable, Alias("outpost.TenantLimits")]
public sealed record TenantLimits(
    [property: Id(0)] long BudgetMicros,
    [property: Id(1)] BudgetPeriod Period,
    [property: Id(2)] int RequestsPerMinute,
    [property: Id(3)] long TokensPerMinute,
    [property: Id(4)] int SoftLimitPercent = 80,
    [property: Id(5)] bool CloudFallbackAllowed = false)
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

        return SoftLimitPercent is < 1 or > 100 ? "softLimitPercent must be between 1 and 100." : null;
    }
}
