using Outpost.Grains.TenantQuotas;

namespace Outpost.Gateway.Contracts;

/// <summary>A tenant's budget and limits, as <c>GET</c> and <c>PUT /v1/admin/tenants/{tenant}/limits</c> answer them.</summary>
public sealed record TenantLimitsResponse(
    long BudgetMicros,
    BudgetPeriod Period,
    int RequestsPerMinute,
    long TokensPerMinute,
    int SoftLimitPercent,
    bool CloudFallbackAllowed,
    IReadOnlyDictionary<string, long>? ClientBudgetsMicros,
    IReadOnlyDictionary<string, long>? KindBudgetsMicros,
    TimeSpan ResetAtUtc,
    bool EdgeContinuesOverBudget,
    bool AllowCloudOverSoftLimit)
{
    public static TenantLimitsResponse From(TenantLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        return new(
            limits.BudgetMicros,
            limits.Period,
            limits.RequestsPerMinute,
            limits.TokensPerMinute,
            limits.SoftLimitPercent,
            limits.CloudFallbackAllowed,
            limits.ClientBudgetsMicros,
            limits.KindBudgetsMicros,
            limits.ResetAtUtc,
            limits.EdgeContinuesOverBudget,
            limits.AllowCloudOverSoftLimit);
    }
}
