using Outpost.Grains;
using Outpost.Grains.EdgeDevices;
using Outpost.Grains.Placement;

namespace Outpost.EdgeSilo.EdgeDevices;

/// <summary>
/// The device itself, living on the device's own silo. Its registration is durable; its heartbeat is forwarded to
/// the control plane's directory, which owns the "last seen" record.
/// </summary>
[DevicePlacement]
public sealed class EdgeDeviceGrain(
    [PersistentState("device", StorageNames.Default)] IPersistentState<EdgeDeviceState> state,
    ILocalSiloDetails silo,
    TimeProvider time) : Grain, IEdgeDeviceGrain
{
    private DateTimeOffset _lastHeartbeat;

    public async Task<DeviceRecord> RegisterAsync(DeviceRegistration registration)
    {
        ArgumentNullException.ThrowIfNull(registration);
        if (!string.Equals(registration.DeviceId, this.GetPrimaryKeyString(), StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"Registration for device '{registration.DeviceId}' was sent to device '{this.GetPrimaryKeyString()}'.", nameof(registration));
        }

        var now = time.GetUtcNow();
        state.State.Registration = registration;
        state.State.RegisteredAt = now;
        await state.WriteStateAsync();
        _lastHeartbeat = now;
        return await ReportAsync();
    }

    public async Task<DeviceRecord> HeartbeatAsync()
    {
        _ = state.State.Registration ?? throw new InvalidOperationException($"Device '{this.GetPrimaryKeyString()}' has not registered.");
        _lastHeartbeat = time.GetUtcNow();
        return await ReportAsync();
    }

    public Task<DeviceRecord?> GetRecordAsync() =>
        Task.FromResult(state.State.Registration is null ? null : CurrentRecord());

    private async Task<DeviceRecord> ReportAsync()
    {
        var record = CurrentRecord();
        await GrainFactory.GetGrain<IDeviceDirectoryGrain>(IDeviceDirectoryGrain.Key).ReportAsync(record);
        return record;
    }

    private DeviceRecord CurrentRecord() =>
        new(state.State.Registration!, silo.SiloAddress, state.State.RegisteredAt, _lastHeartbeat == default ? state.State.RegisteredAt : _lastHeartbeat);
}
