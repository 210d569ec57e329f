namespace Outpost.Grains.EdgeDevices;

/// <summary>A device as the directory sees it now: its record plus whether its silo is alive.</summary>
/// <param name="Record">What the device last reported.</param>
/// <param name="Online">True while the device's silo is an active member of the cluster.</param>
[GenerateSerializer, Immutable, Alias("outpost.DeviceSummary")]
public sealed record DeviceSummary(
    [property: Id(0)] DeviceRecord Record,
    [property: Id(1)] bool Online);
