using Outpost.Testing.Cluster;

namespace Outpost.EdgeSilo.Tests.Tasks;

/// <summary>One control silo and one edge silo with its sandbox: the device's checks of what it is asked to run.</summary>
public sealed class ManifestRefusalFixture : OutpostClusterFixture
{
    public const string DeviceId = "dev-pi-1";

    public ManifestRefusalFixture()
        : base(new ClusterScenario { EdgeDevices = [DeviceId] })
    {
    }
}
