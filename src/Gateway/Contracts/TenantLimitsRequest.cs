namespace Outpost.Gateway.Contracts;

/// <summary>The body of <c>PUT /v1/admin/tenants/{tenant}/limits</c>.</summary>
public sealed record TenantLimitsRequest(
    long BudgetMicros,
    string? Period,
    int RequestsPerMinute,
    long TokensPerMinute,
    int? SoftLimitPercent,
    bool CloudFallbackAllowed,
    IReadOnlyDictionary<string, long>? ClientBudgetsMicros,
    IReadOnlyDictionary<string, long>? KindBudgetsMicros,
    TimeSpan? ResetAtUtc,
    bool? EdgeContinuesOverBudget,
    bool AllowCloudOverSoftLimit);
