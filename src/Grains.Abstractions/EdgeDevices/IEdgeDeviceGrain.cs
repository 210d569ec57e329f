namespace Outpost.Grains.EdgeDevices;

/// <summary>
/// One edge device. Keyed by device id and placed on the silo of that device, so its work runs on the device's own
/// hardware; it owns the device's inference queue and sandbox.
/// </summary>
[Alias("outpost.IEdgeDeviceGrain")]
public interface IEdgeDeviceGrain : IGrainWithStringKey
{
    /// <summary>Records what the device is and can do, and announces it to the directory.</summary>
    [Alias("RegisterAsync")]
    Task<DeviceRecord> RegisterAsync(DeviceRegistration registration);

    /// <summary>Tells the directory the device is alive.</summary>
    [Alias("HeartbeatAsync")]
    Task<DeviceRecord> HeartbeatAsync();

    /// <summary>The device's current record, or null before it has registered.</summary>
    [Alias("GetRecordAsync")]
    Task<DeviceRecord?> GetRecordAsync();
}
