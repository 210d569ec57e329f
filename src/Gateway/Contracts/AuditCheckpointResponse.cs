using System.Text;
using Outpost.Grains.AuditLogs;

namespace Outpost.Gateway.Contracts;

/// <summary>
/// A signed checkpoint. <see cref="SignedText"/> is exactly what <see cref="Signature"/> (ECDSA P-256, SHA-256, r || s
/// in base64) covers; check it with the key from <c>GET /v1/audit/keys</c> named by <see cref="KeyId"/>.
/// </summary>
public sealed record AuditCheckpointResponse(
    string Tenant, long TreeSize, string RootHash, DateTimeOffset SignedAt, string KeyId, string Signature, string SignedText)
{
    public static AuditCheckpointResponse From(AuditCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        return new AuditCheckpointResponse(
            checkpoint.Tenant,
            checkpoint.TreeSize,
            Convert.ToBase64String(checkpoint.RootHash),
            checkpoint.SignedAt,
            checkpoint.KeyId,
            Convert.ToBase64String(checkpoint.Signature),
            Encoding.UTF8.GetString(checkpoint.SignedText));
    }
}
