namespace Outpost.Grains.EdgeDevices;

/// <summary>What a device says about itself when its silo starts.</summary>
/// <param name="DeviceId">The device id; equal to the grain key.</param>
/// <param name="SoftwareVersion">The EdgeSilo build running on the device.</param>
/// <param name="Capabilities">Free-form capability tags, e.g. <c>embed</c>, <c>generate</c>, <c>npu:hailo10h</c>.</param>
/// <param name="Models">The models the device serves.</param>
/// <param name="HostName">The machine's host name, for operators.</param>
/// <param name="ExecutionKey">The device's own public key (SubjectPublicKeyInfo DER) that signs task results; null when it runs no tasks.</param>
[GenerateSerializer, Immutable, Alias("outpost.DeviceRegistration")]
public sealed record DeviceRegistration(
    [property: Id(0)] string DeviceId,
    [property: Id(1)] string SoftwareVersion,
    [property: Id(2)] IReadOnlyList<string> Capabilities,
    [property: Id(3)] IReadOnlyList<DeviceModel> Models,
    [property: Id(4)] string HostName,
    [property: Id(5)] byte[]? ExecutionKey = null);
