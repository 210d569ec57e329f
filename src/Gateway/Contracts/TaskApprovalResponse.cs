namespace Outpost.Gateway.Contracts;

/// <summary>A run's approval gate: who must decide (<c>none</c>, <c>human</c>, <c>tenant_admin</c>), by which rule, until when, and who did.</summary>
public sealed record TaskApprovalResponse(string Required, string Rule, DateTimeOffset? ExpiresAt, string? DecidedBy);
