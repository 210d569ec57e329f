using Outpost.Grains.Inference;

namespace Outpost.Grains.EdgeDevices;

/// <summary>The directory's durable knowledge of one device.</summary>
/// <param name="Registration">The device's latest registration.</param>
/// <param name="Silo">The silo that hosted the device grain when it last reported.</param>
/// <param name="RegisteredAt">When the device last registered.</param>
/// <param name="LastHeartbeat">When the device last reported in.</param>
/// <param name="Load">How busy the device was when it last reported in.</param>
[GenerateSerializer, Immutable, Alias("outpost.DeviceRecord")]
public sealed record DeviceRecord(
    [property: Id(0)] DeviceRegistration Registration,
    [property: Id(1)] SiloAddress Silo,
    [property: Id(2)] DateTimeOffset RegisteredAt,
    [property: Id(3)] DateTimeOffset LastHeartbeat,
    [property: Id(4)] DeviceLoad? Load = null);
