using Outpost.Grains.Placement;

namespace Outpost.Grains.EdgeDevices;

/// <summary>
/// The cluster's device list. Whether a device is online is not stored: it is read from cluster membership at the
/// moment of asking, so a device whose silo died turns offline as soon as membership says so.
/// </summary>
[ControlPlane]
public sealed class DeviceDirectoryGrain(
    [PersistentState(StateNames.DeviceDirectory, StorageNames.Default)] IPersistentState<DeviceDirectoryState> state,
    IClusterMembershipService membership) : Grain, IDeviceDirectoryGrain
{
    public async Task ReportAsync(DeviceRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        // A device's result-signing key is pinned at first sight: a later registration with another key (a device
        // re-imaged, or someone holding its certificate) keeps the pinned one, so its results stop verifying instead of
        // a new key being trusted silently. An operator who re-keys a device removes its record first.
        if (state.State.Devices.TryGetValue(record.Registration.DeviceId, out var known)
            && known.Registration.ExecutionKey is { } pinned
            && (record.Registration.ExecutionKey is null || !pinned.AsSpan().SequenceEqual(record.Registration.ExecutionKey)))
        {
            record = record with { Registration = record.Registration with { ExecutionKey = pinned } };
        }

        state.State.Devices[record.Registration.DeviceId] = record;
        await state.WriteStateAsync();
    }

    public Task<IReadOnlyList<DeviceSummary>> ListAsync()
    {
        var snapshot = membership.CurrentSnapshot;
        IReadOnlyList<DeviceSummary> devices = state.State.Devices.Values
            .OrderBy(d => d.Registration.DeviceId, StringComparer.Ordinal)
            .Select(d => new DeviceSummary(d, snapshot.GetSiloStatus(d.Silo) == SiloStatus.Active))
            .ToList();
        return Task.FromResult(devices);
    }
}
