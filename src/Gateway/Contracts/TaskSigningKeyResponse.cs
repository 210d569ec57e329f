namespace Outpost.Gateway.Contracts;

/// <summary>A published task-signing key: SubjectPublicKeyInfo DER in base64 (<c>public_key</c>) and as PEM.</summary>
public sealed record TaskSigningKeyResponse(string KeyId, string Algorithm, string PublicKey, string PublicKeyPem, DateTimeOffset CreatedAt, bool Current);
