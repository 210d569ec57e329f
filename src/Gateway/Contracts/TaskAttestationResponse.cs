namespace Outpost.Gateway.Contracts;

/// <summary>
/// <c>GET /v1/tasks/{id}/attestation</c>: the manifest exactly as signed, its ephemeral key and signature, the
/// long-term key's endorsement of that key, and the device's signed result. README, "Checking a run offline", says how
/// to verify it with the published keys. Byte fields are base64.
/// </summary>
public sealed record TaskAttestationResponse(
    string RunId,
    string Algorithm,
    string Manifest,
    string ManifestSha256,
    string ManifestSignature,
    string EphemeralPublicKey,
    string EndorsementKeyId,
    string EndorsementSignature,
    string? Result,
    string? ResultSignature,
    string? DevicePublicKey,
    IReadOnlyList<TaskSigningKeyResponse> SigningKeys);
