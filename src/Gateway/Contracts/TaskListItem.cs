namespace Outpost.Gateway.Contracts;

/// <summary>A run in a list (<c>GET /v1/tasks</c>, <c>GET /v1/approvals</c>); <c>GET /v1/tasks/{id}</c> has the rest.</summary>
public sealed record TaskListItem(
    string Id,
    string Status,
    string Kind,
    string RequestedBy,
    string? Device,
    string Approval,
    string PolicyRule,
    DateTimeOffset? ApprovalExpiresAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);
