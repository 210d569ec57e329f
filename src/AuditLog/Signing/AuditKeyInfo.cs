namespace Outpost.AuditLog.Signing;

/// <summary>
/// The public facts of an audit key: its public key as SubjectPublicKeyInfo DER, and whether it is the newest, the one
/// that signs now (<paramref name="Signing"/>).
/// </summary>
public sealed record AuditKeyInfo(string KeyId, string Algorithm, DateTimeOffset CreatedAt, byte[] PublicKey, bool Signing);
