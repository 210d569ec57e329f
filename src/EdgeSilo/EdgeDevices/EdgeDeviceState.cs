using Outpost.Grains.EdgeDevices;

namespace Outpost.EdgeSilo.EdgeDevices;

[GenerateSerializer, Alias("outpost.EdgeDeviceState")]
public sealed class EdgeDeviceState
{
    [Id(0)]
    public DeviceRegistration? Registration { get; set; }

    [Id(1)]
    public DateTimeOffset RegisteredAt { get; set; }
}
