namespace Outpost.AuditLog.Signing;

/// <summary>
/// The public facts of an audit key: its public key as SubjectPublicKeyInfo DER, whether it is the newest endorsed key,
/// the one that signs now (<paramref name="Signing"/>), and whether it is endorsed at all (<paramref name="Endorsed"/>:
/// created by a process holding the master key; a row without that is not an audit key, whoever inserted it).
/// </summary>
public sealed record AuditKeyInfo(string KeyId, string Algorithm, DateTimeOffset CreatedAt, byte[] PublicKey, bool Signing, bool Endorsed);
