namespace Outpost.Gateway.Contracts;

/// <summary>
/// An audit checkpoint key: its id, algorithm, public key (SubjectPublicKeyInfo, base64 DER and PEM), when it was made,
/// and whether it is the one that signs new checkpoints (older ones only verify what they signed).
/// </summary>
public sealed record AuditKeyResponse(string KeyId, string Algorithm, string PublicKey, string PublicKeyPem, DateTimeOffset CreatedAt, bool Signing);
