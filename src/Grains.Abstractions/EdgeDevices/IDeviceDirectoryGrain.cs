namespace Outpost.Grains.EdgeDevices;

/// <summary>
/// The control plane's list of known devices. Devices report to it; the gateway reads it. Keyed by
/// <see cref="Key"/>: there is one directory per cluster.
/// </summary>
[Alias("outpost.IDeviceDirectoryGrain")]
public interface IDeviceDirectoryGrain : IGrainWithStringKey
{
    /// <summary>The key of the cluster's directory.</summary>
    const string Key = "cluster";

    /// <summary>Adds or replaces a device's record.</summary>
    [Alias("ReportAsync")]
    Task ReportAsync(DeviceRecord record);

    /// <summary>All known devices, online or not, ordered by device id.</summary>
    [Alias("ListAsync")]
    Task<IReadOnlyList<DeviceSummary>> ListAsync();
}
