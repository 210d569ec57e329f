namespace Outpost.Grains.TaskRuns;

/// <summary>
/// The control plane's long-term task-signing key vouching for one run's ephemeral key: it signed
/// <see cref="TaskSignatures.EndorsementText"/> of the run id, device, ephemeral public key and expiry.
/// </summary>
/// <param name="KeyId">The long-term key that signed (published at <c>GET /v1/tasks/signing-keys</c>).</param>
/// <param name="Signature">ECDSA P-256 / SHA-256 signature, IEEE P1363 (r || s).</param>
[GenerateSerializer, Immutable, Alias("outpost.ManifestEndorsement")]
public sealed record ManifestEndorsement(
    [property: Id(0)] string KeyId,
    [property: Id(1)] byte[] Signature);
