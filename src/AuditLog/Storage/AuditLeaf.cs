using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using Outpost.Grains.AuditLogs;
using Outpost.AuditLog.Merkle;

namespace Outpost.AuditLog.Storage;

/// <summary>
/// The canonical encoding of an event as a Merkle leaf: compact UTF-8 JSON with a fixed member order, binding the event
/// to its tenant and position. Changing any stored field, or moving a row to another position, changes its leaf hash.
/// Bodies are outside the leaf; their digests are in it.
/// </summary>
public static class AuditLeaf
{
    /// <summary>The encoding's version, the leaf's first member.</summary>
    public const int Version = 1;

    private static readonly byte[] EmptyDigest = SHA256.HashData([]);

    /// <summary>
    /// Puts an event in the form it is stored and hashed in: UTC to the microsecond (PostgreSQL's precision), no NUL
    /// characters (PostgreSQL text cannot hold them), digests present.
    /// </summary>
    public static AuditEvent Normalize(AuditEvent auditEvent)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        var utc = auditEvent.Time.ToUniversalTime();
        return auditEvent with
        {
            Time = new DateTimeOffset(utc.Ticks - (utc.Ticks % 10), TimeSpan.Zero),
            Subject = Clean(auditEvent.Subject),
            Action = Clean(auditEvent.Action),
            Decision = Clean(auditEvent.Decision),
            Target = auditEvent.Target is null ? null : Clean(auditEvent.Target),
            RequestId = Clean(auditEvent.RequestId),
            ClientId = Clean(auditEvent.ClientId),
            SourceAddress = Clean(auditEvent.SourceAddress),
            Scopes = Clean(auditEvent.Scopes),
            Rule = Clean(auditEvent.Rule),
            Reason = Clean(auditEvent.Reason),
            Device = Clean(auditEvent.Device),
            Silo = Clean(auditEvent.Silo),
            Model = Clean(auditEvent.Model),
            Outcome = Clean(auditEvent.Outcome),
            RequestSha256 = auditEvent.RequestSha256 ?? (auditEvent.RequestBody is { } request ? SHA256.HashData(request) : EmptyDigest),
            ResponseSha256 = auditEvent.ResponseSha256 ?? (auditEvent.ResponseBody is { } response ? SHA256.HashData(response) : EmptyDigest),
        };
    }

    /// <summary>The leaf's bytes for a normalized event at <paramref name="sequence"/> in <paramref name="tenant"/>'s log.</summary>
    public static byte[] Encode(string tenant, long sequence, AuditEvent auditEvent)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(auditEvent);
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("v", Version);
            writer.WriteString("tenant", tenant);
            writer.WriteNumber("seq", sequence);
            writer.WriteString("request_id", auditEvent.RequestId);
            writer.WriteString("time", auditEvent.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture));
            writer.WriteString("subject", auditEvent.Subject);
            writer.WriteString("client_id", auditEvent.ClientId);
            writer.WriteString("source_address", auditEvent.SourceAddress);
            writer.WriteString("action", auditEvent.Action);
            writer.WriteString("scopes", auditEvent.Scopes);
            writer.WriteString("decision", auditEvent.Decision);
            writer.WriteString("rule", auditEvent.Rule);
            writer.WriteString("reason", auditEvent.Reason);
            writer.WriteString("target", auditEvent.Target ?? "");
            writer.WriteString("device", auditEvent.Device);
            writer.WriteString("silo", auditEvent.Silo);
            writer.WriteString("model", auditEvent.Model);
            writer.WriteNumber("cost_micros", auditEvent.CostMicros);
            writer.WriteNumber("status", auditEvent.Status);
            writer.WriteString("outcome", auditEvent.Outcome);
            writer.WriteString("request_sha256", Convert.ToHexStringLower(auditEvent.RequestSha256 ?? EmptyDigest));
            writer.WriteString("response_sha256", Convert.ToHexStringLower(auditEvent.ResponseSha256 ?? EmptyDigest));
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The Merkle leaf hash of a normalized event at its position.</summary>
    public static byte[] Hash(string tenant, long sequence, AuditEvent auditEvent) =>
        MerkleHash.Leaf(Encode(tenant, sequence, auditEvent));

    private static string Clean(string value) => value.Contains('\0', StringComparison.Ordinal) ? value.Replace('\0', '\uFFFD') : value;
}
