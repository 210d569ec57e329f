using Orleans.Placement;

namespace Outpost.Grains.Placement;

/// <summary>Marks a grain class keyed by device id as living on that device's edge silo.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class DevicePlacementAttribute : PlacementAttribute
{
    public DevicePlacementAttribute()
        : base(DevicePlacementStrategy.Singleton)
    {
    }
}
