using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;
using Outpost.Grains.EdgeDevices;
using Outpost.Grains.Placement;

namespace Outpost.ServiceDefaults.Placement;

/// <summary>
/// Places a device grain on the silo that advertises the grain's key as its device id. There is no fallback: a
/// device's work on another machine would be work on the wrong hardware, so a missing device is an error.
/// </summary>
internal sealed class DevicePlacementDirector(ISiloMetadataCache metadata) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var deviceId = target.GrainIdentity.Key.ToString()!;
        SiloAddress? chosen = null;
        foreach (var silo in context.GetCompatibleSilos(target))
        {
            var siloMetadata = metadata.GetSiloMetadata(silo).Metadata;
            if (siloMetadata.TryGetValue(SiloRoles.DeviceIdKey, out var id) && string.Equals(id, deviceId, StringComparison.Ordinal))
            {
                // While a restarted device's old silo is still being declared dead, both claim the id: the newer wins.
                if (chosen is null || silo.Generation > chosen.Generation)
                {
                    chosen = silo;
                }
            }
        }

        return chosen is null
            ? Task.FromException<SiloAddress>(DeviceUnavailableException.For(deviceId))
            : Task.FromResult(chosen);
    }
}
