using Outpost.Grains.AuditLogs;

namespace Outpost.Gateway.Contracts;

/// <summary>An audit event as the API shows it; hashes and bodies in base64, digests in hex.</summary>
public sealed record AuditEventResponse(
    long Sequence,
    string RequestId,
    DateTimeOffset Time,
    string Subject,
    string ClientId,
    string SourceAddress,
    string Action,
    string Scopes,
    string Decision,
    string Rule,
    string Reason,
    string? Target,
    string Device,
    string Silo,
    string Model,
    long CostMicros,
    int Status,
    string Outcome,
    string RequestSha256,
    string ResponseSha256,
    string? RequestBody,
    string? ResponseBody,
    string LeafHash)
{
    public static AuditEventResponse From(AuditEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var e = entry.Event;
        return new AuditEventResponse(
            entry.Sequence, e.RequestId, e.Time, e.Subject, e.ClientId, e.SourceAddress, e.Action, e.Scopes, e.Decision, e.Rule, e.Reason,
            e.Target, e.Device, e.Silo, e.Model, e.CostMicros, e.Status, e.Outcome,
            Convert.ToHexStringLower(e.RequestSha256 ?? []), Convert.ToHexStringLower(e.ResponseSha256 ?? []),
            e.RequestBody is null ? null : Convert.ToBase64String(e.RequestBody),
            e.ResponseBody is null ? null : Convert.ToBase64String(e.ResponseBody),
            Convert.ToBase64String(entry.LeafHash ?? []));
    }
}
