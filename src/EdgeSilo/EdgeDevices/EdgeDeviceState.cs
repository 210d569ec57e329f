using Outpost.Grains.EdgeDevices;

namespace Outpost.EdgeSilo.EdgeDevices;

[GenerateSerializer, Alias("outpost.EdgeDeviceState")]
public sealed class EdgeDeviceState
{
    [Id(0)]
    public DeviceRegistration? Registration { get; set; }

    [Id(1)]
    public DateTimeOffset RegisteredAt { get; set; }

    /// <summary>Run ids this device accepted, with their manifests' expiry: a run id is never run twice here.</summary>
    [Id(2)]
    public Dictionary<string, DateTimeOffset> AcceptedRuns { get; set; } = new(StringComparer.Ordinal);
}
