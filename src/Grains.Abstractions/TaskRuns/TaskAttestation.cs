namespace Outpost.Grains.TaskRuns;

/// <summary>Everything an auditor needs to check a finished run offline, given the published task-signing keys.</summary>
/// <param name="Manifest">The signed manifest the device ran.</param>
/// <param name="Result">The device's signed result; null when the run never produced one.</param>
/// <param name="DevicePublicKey">The device key the control plane holds for the device (SubjectPublicKeyInfo DER).</param>
[GenerateSerializer, Immutable, Alias("outpost.TaskAttestation")]
public sealed record TaskAttestation(
    [property: Id(0)] SignedManifest Manifest,
    [property: Id(1)] SignedTaskResult? Result,
    [property: Id(2)] byte[]? DevicePublicKey);
