namespace Outpost.Grains.TaskRuns;

/// <summary>A manifest as dispatched: its exact bytes, the ephemeral key's signature over them, and that key's endorsement.</summary>
/// <param name="ManifestJson">The manifest, UTF-8 JSON, exactly as signed.</param>
/// <param name="Signature">The ephemeral key's signature over <see cref="TaskSignatures.ManifestText"/> (IEEE P1363).</param>
/// <param name="EphemeralPublicKey">The run's ephemeral public key (SubjectPublicKeyInfo DER); its private half was discarded after signing.</param>
/// <param name="Endorsement">The long-term key's endorsement of the ephemeral key.</param>
[GenerateSerializer, Immutable, Alias("outpost.SignedManifest")]
public sealed record SignedManifest(
    [property: Id(0)] string ManifestJson,
    [property: Id(1)] byte[] Signature,
    [property: Id(2)] byte[] EphemeralPublicKey,
    [property: Id(3)] ManifestEndorsement Endorsement);
