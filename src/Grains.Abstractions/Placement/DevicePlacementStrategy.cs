namespace Outpost.Grains.Placement;

/// <summary>
/// Places a grain on the silo whose <see cref="SiloRoles.DeviceIdKey"/> metadata equals the grain's key: the grain
/// is the device, so it must live where the device's hardware is.
/// </summary>
[GenerateSerializer, Immutable, Alias("outpost.placement.device")]
public sealed class DevicePlacementStrategy : PlacementStrategy
{
    internal static readonly DevicePlacementStrategy Singleton = new();
}
