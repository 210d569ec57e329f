using System.Text.Json.Serialization;

namespace Outpost.Gateway.Contracts;

/// <summary>A task run as it stands.</summary>
public sealed record TaskResponse(
    string Id,
    string Status,
    string Kind,
    IReadOnlyList<string> Argv,
    string? Device,
    int Attempt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? EndedAt,
    int? ExitCode,
    string? Reason,
    TaskApprovalResponse Approval,
    TaskLimitsResponse Limits,
    IReadOnlyList<TaskOutputResponse> Outputs,
    string? LogDigest,
    long LogBytes,
    bool ResultVerified)
{
    [JsonPropertyName("object")]
    public string ObjectType => "task_run";
}
