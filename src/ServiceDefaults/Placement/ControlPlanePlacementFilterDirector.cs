using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;
using Outpost.Grains.Placement;

namespace Outpost.ServiceDefaults.Placement;

/// <summary>Removes every silo that advertises the edge role from a control-plane grain's candidates.</summary>
internal sealed class ControlPlanePlacementFilterDirector(ISiloMetadataCache metadata) : IPlacementFilterDirector
{
    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy filterStrategy, PlacementTarget target, IEnumerable<SiloAddress> silos) =>
        silos.Where(silo => !metadata.GetSiloMetadata(silo).Metadata.TryGetValue(SiloRoles.RoleKey, out var role)
            || !string.Equals(role, SiloRoles.Edge, StringComparison.Ordinal));
}
