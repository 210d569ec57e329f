namespace Outpost.Gateway.Contracts;

/// <summary>An audit checkpoint key: its id, algorithm and public key (SubjectPublicKeyInfo, base64 DER and PEM).</summary>
public sealed record AuditKeyResponse(string KeyId, string Algorithm, string PublicKey, string PublicKeyPem);
