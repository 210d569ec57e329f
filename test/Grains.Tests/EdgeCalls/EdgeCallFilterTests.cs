using Microsoft.Extensions.DependencyInjection;
using Outpost.Grains.AuditLogs;
using Outpost.Grains.EdgeDevices;
using Outpost.Grains.TenantQuotas;
using Outpost.Testing.AuditLogs;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.Grains.Tests.EdgeCalls;

/// <summary>
/// Calls made from inside an edge silo (its own grain factory, as code running on a stolen Pi would) to the control
/// plane's grains: only a device's report of itself gets through.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class EdgeCallFilterTests(OutpostClusterFixture fixture)
{
    private OutpostCluster Cluster => fixture.Cluster;

    private IGrainFactory EdgeGrains(string deviceId) => Cluster.Edge(deviceId).Host.Services.GetRequiredService<IGrainFactory>();

    [Fact]
    public async Task AuditLogAppend_FromAnEdgeSilo_IsRefusedAndNothingIsWritten()
    {
        var tenant = AuditSamples.NewTenant("edge-call");

        var error = await Assert.ThrowsAsync<UnauthorizedAccessException>(
            () => EdgeGrains("dev-pi-1").GetGrain<IAuditLogGrain>(tenant).AppendBatchAsync([AuditSamples.Event(0)]));

        Assert.Contains("dev-pi-1", error.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(IAuditLogGrain.AppendBatchAsync), error.Message, StringComparison.Ordinal);
        Assert.Equal(0, await Cluster.Client.GetGrain<IAuditLogGrain>(tenant).CountAsync());
    }

    [Fact]
    public async Task TenantQuotaChange_FromAnEdgeSilo_IsRefused_WhileTheGatewayMayMakeIt()
    {
        var tenant = AuditSamples.NewTenant("edge-quota");
        var limits = new TenantLimits(BudgetMicros: 1_000_000, BudgetPeriod.Monthly, RequestsPerMinute: 5, TokensPerMinute: 0);

        await Assert.ThrowsAsync<UnauthorizedAccessException>(
            () => EdgeGrains("dev-pi-1").GetGrain<ITenantQuotaGrain>(tenant).SetLimitsAsync(limits));
        var before = await Cluster.Client.GetGrain<ITenantQuotaGrain>(tenant).GetLimitsAsync();
        await Cluster.Client.GetGrain<ITenantQuotaGrain>(tenant).SetLimitsAsync(limits);

        Assert.Null(before);
        Assert.Equal(5, (await Cluster.Client.GetGrain<ITenantQuotaGrain>(tenant).GetLimitsAsync())?.RequestsPerMinute);
    }

    [Fact]
    public async Task DirectoryReport_FromAnEdgeSilo_IsAllowedForItselfOnly()
    {
        var grains = EdgeGrains("dev-pi-1");
        var own = (await grains.GetGrain<IEdgeDeviceGrain>("dev-pi-1").GetRecordAsync())!;
        var directory = grains.GetGrain<IDeviceDirectoryGrain>(IDeviceDirectoryGrain.Key);
        var impersonated = own with { Registration = own.Registration with { DeviceId = "dev-pi-2" } };

        await directory.ReportAsync(own);
        var error = await Assert.ThrowsAsync<UnauthorizedAccessException>(() => directory.ReportAsync(impersonated));
        var list = await Assert.ThrowsAsync<UnauthorizedAccessException>(directory.ListAsync);

        Assert.Contains("dev-pi-2", error.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(IDeviceDirectoryGrain.ListAsync), list.Message, StringComparison.Ordinal);
        var devices = await Cluster.Client.GetGrain<IDeviceDirectoryGrain>(IDeviceDirectoryGrain.Key).ListAsync();
        Assert.Equal(Cluster.Edge("dev-pi-2").Address, devices.Single(d => d.Record.Registration.DeviceId == "dev-pi-2").Record.Silo);
    }
}
