namespace Outpost.Grains.EdgeDevices;

[GenerateSerializer, Alias("outpost.DeviceDirectoryState")]
public sealed class DeviceDirectoryState
{
    [Id(0)]
    public Dictionary<string, DeviceRecord> Devices { get; set; } = new(StringComparer.Ordinal);
}
