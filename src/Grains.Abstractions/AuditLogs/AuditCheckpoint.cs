using System.Globalization;
using System.Text;

namespace Outpost.Grains.AuditLogs;

/// <summary>
/// A signed statement that a tenant's audit log held <see cref="TreeSize"/> events whose Merkle root is
/// <see cref="RootHash"/> at <see cref="SignedAt"/>. The signature covers <see cref="SignedText"/>; anyone with the
/// audit public key can check it offline.
/// </summary>
/// <param name="Tenant">The tenant whose log this is.</param>
/// <param name="TreeSize">The number of events covered.</param>
/// <param name="RootHash">The RFC 9162 Merkle tree hash of those events.</param>
/// <param name="SignedAt">When it was signed (UTC, to the microsecond).</param>
/// <param name="KeyId">The signing key's id: the first 16 hex digits of SHA-256 of its SubjectPublicKeyInfo.</param>
/// <param name="Signature">ECDSA P-256 with SHA-256 over <see cref="SignedText"/>, as r || s (64 bytes).</param>
[GenerateSerializer, Immutable, Alias("outpost.AuditCheckpoint")]
public sealed record AuditCheckpoint(
    [property: Id(0)] string Tenant,
    [property: Id(1)] long TreeSize,
    [property: Id(2)] byte[] RootHash,
    [property: Id(3)] DateTimeOffset SignedAt,
    [property: Id(4)] string KeyId,
    [property: Id(5)] byte[] Signature)
{
    /// <summary>The first line of every checkpoint's signed text; changes only with the format.</summary>
    public const string Origin = "outpost.audit.checkpoint/v1";

    /// <summary>The exact UTF-8 bytes the signature covers.</summary>
    public byte[] SignedText => FormatSignedText(Tenant, TreeSize, RootHash, SignedAt);

    /// <summary>
    /// The signed text: five lines, each ending in a newline: the origin, the tenant, the tree size in decimal, the root
    /// hash in base64, and the time as ISO 8601 UTC with six fractional digits.
    /// </summary>
    public static byte[] FormatSignedText(string tenant, long treeSize, byte[] rootHash, DateTimeOffset signedAt)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(rootHash);
        var text = string.Create(CultureInfo.InvariantCulture, $"""
            {Origin}
            {tenant}
            {treeSize}
            {Convert.ToBase64String(rootHash)}
            {signedAt.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'}

            """);
        return Encoding.UTF8.GetBytes(text.ReplaceLineEndings("\n"));
    }
}
