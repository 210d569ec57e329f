using Outpost.Grains.AuditLogs;
using Outpost.Grains.EdgeDevices;
using Outpost.Grains.TaskRuns;
using Outpost.Grains.TenantQuotas;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.ServiceDefaults.Tests.Placement;

[Collection(ClusterCollection.Name)]
public sealed class PlacementTests(OutpostClusterFixture fixture)
{
    private OutpostCluster Cluster => fixture.Cluster;

    [Theory]
    [InlineData("dev-pi-1")]
    [InlineData("dev-pi-2")]
    public async Task EdgeDeviceGrain_ForEachDevice_LivesOnThatDevicesEdgeSilo(string deviceId)
    {
        var device = Cluster.Client.GetGrain<IEdgeDeviceGrain>(deviceId);

        var record = await device.GetRecordAsync();
        var activations = await Cluster.Client.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics();

        var hosts = activations.Where(a => a.GrainId == device.GetGrainId()).Select(a => a.SiloAddress);
        Assert.Equal(Cluster.Edge(deviceId).Address, Assert.Single(hosts));
        Assert.NotNull(record);
        Assert.Equal(Cluster.Edge(deviceId).Address, record.Silo);
        Assert.Equal(deviceId, record.Registration.DeviceId);
    }

    [Fact]
    public async Task EdgeDeviceGrain_DeviceWithoutSilo_FailsWithDeviceUnavailable()
    {
        var device = Cluster.Client.GetGrain<IEdgeDeviceGrain>("dev-nowhere");

        var error = await Assert.ThrowsAsync<DeviceUnavailableException>(device.GetRecordAsync);

        Assert.Equal("dev-nowhere", error.DeviceId);
        Assert.Contains("dev-nowhere", error.Message, StringComparison.Ordinal);
        Assert.Contains("no live edge silo", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ControlPlaneGrains_HundredOfEachKind_AllLiveOnTheControlSilo()
    {
        var management = Cluster.Client.GetGrain<IManagementGrain>(0);
        var grains = new List<IAddressable>();
        var calls = new List<Task>();
        for (var i = 0; i < 100; i++)
        {
            var quota = Cluster.Client.GetGrain<ITenantQuotaGrain>($"placement-tenant-{i}");
            var audit = Cluster.Client.GetGrain<IAuditLogGrain>($"placement-tenant-{i}");
            var run = Cluster.Client.GetGrain<ITaskRunGrain>($"placement-run-{i}");
            grains.AddRange([quota, audit, run]);
            calls.AddRange([quota.GetLimitsAsync(), audit.CountAsync(), run.GetAsync()]);
        }

        await Task.WhenAll(calls);
        var hosts = new HashSet<SiloAddress?>();
        foreach (var grain in grains)
        {
            hosts.Add(await management.GetActivationAddress(grain));
        }

        Assert.Equal(Cluster.Control.Address, Assert.Single(hosts));
    }

    [Fact]
    public async Task DeviceDirectoryGrain_WhenActivated_LivesOnTheControlSilo()
    {
        var directory = Cluster.Client.GetGrain<IDeviceDirectoryGrain>(IDeviceDirectoryGrain.Key);
        await directory.ListAsync();

        Assert.Equal(Cluster.Control.Address, await Cluster.Client.GetGrain<IManagementGrain>(0).GetActivationAddress(directory));
    }
}
