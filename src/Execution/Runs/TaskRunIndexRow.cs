namespace Outpost.Execution.Runs;

/// <summary>One run as the index lists it.</summary>
public sealed record TaskRunIndexRow(
    string RunId,
    string Tenant,
    string Status,
    string Kind,
    string RequestedBy,
    string ClientId,
    string? Device,
    string Approval,
    string PolicyRule,
    DateTimeOffset? ApprovalExpiresAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);
