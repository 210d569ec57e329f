namespace Outpost.Grains.TaskRuns;

/// <summary>A device's result: its exact JSON bytes and the device key's signature over them.</summary>
/// <param name="ResultJson">The <see cref="TaskResult"/>, UTF-8 JSON, exactly as signed.</param>
/// <param name="Signature">The device key's signature over <see cref="TaskSignatures.ResultText"/> (IEEE P1363).</param>
[GenerateSerializer, Immutable, Alias("outpost.SignedTaskResult")]
public sealed record SignedTaskResult(
    [property: Id(0)] string ResultJson,
    [property: Id(1)] byte[] Signature);
