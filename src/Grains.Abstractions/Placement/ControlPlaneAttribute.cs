using Orleans.Placement;

namespace Outpost.Grains.Placement;

/// <summary>
/// Marks a grain class as control-plane only. Edge silos also leave such classes out of their grain types, so this
/// filter is the second of two locks, not the only one.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class ControlPlaneAttribute : PlacementFilterAttribute
{
    public ControlPlaneAttribute()
        : base(new ControlPlanePlacementFilterStrategy())
    {
    }
}
