using Outpost.Grains.AuditLogs;
using Outpost.Grains.TaskRuns;
using Outpost.Grains.TenantQuotas;
using Outpost.Testing.Cluster;
using Outpost.Testing.PostgreSql;
using Xunit;

namespace Outpost.Grains.Tests.Persistence;

/// <summary>Stops every silo and the gateway, starts them again on the same database, and reads the state back.</summary>
public sealed class ClusterRestartTests(PostgreSqlFixture postgres) : IClassFixture<PostgreSqlFixture>
{
    [Fact]
    public async Task GrainState_FullClusterRestart_Survives()
    {
        await using var cluster = await OutpostCluster.StartAsync(postgres.Server, new OutpostClusterSettings { EdgeDevices = ["dev-pi-1"] });
        var limits = new TenantLimits(5_000_000, BudgetPeriod.Daily, 60, 10_000, SoftLimitPercent: 75, CloudFallbackAllowed: true);
        var audit = new AuditEvent(DateTimeOffset.UnixEpoch, "alice", "tasks.create", "allowed", "dev-pi-1", "restart-" + Guid.NewGuid().ToString("N"));
        var spec = new TaskRunSpec(
            "acme-runs", "alice", "alice-client", "unit-test", ["python3", "-m", "pytest"], new Dictionary<string, string>(), [], [],
            new TaskLimits(60, 60, 256L * 1024 * 1024, 32, 65536, 1024 * 1024, 64), TaskRunSpec.NoNetwork, [], TaskApproval.Human, "rule", TimeSpan.FromHours(1), RetrySafe: false);

        await cluster.Client.GetGrain<ITenantQuotaGrain>("acme").SetLimitsAsync(limits);
        await cluster.Client.GetGrain<IAuditLogGrain>("acme").AppendAsync(audit);
        await cluster.Client.GetGrain<ITaskRunGrain>("run-1").CreateAsync(spec, "req-1");
        await cluster.Client.GetGrain<ITaskRunGrain>("run-1").DecideAsync(new TaskDecision(true, "bob", "acme-runs", false, "fine", "req-2"));
        var before = await cluster.WaitForDeviceAsync("dev-pi-1", online: true);
        var oldSilos = cluster.Silos.Select(s => s.Address).ToList();

        await cluster.StopAllAsync();
        await cluster.StartAllAsync();

        Assert.DoesNotContain(cluster.Control.Address, oldSilos);
        Assert.Equal(limits, await cluster.Client.GetGrain<ITenantQuotaGrain>("acme").GetLimitsAsync());
        var logged = Assert.Single(await cluster.Client.GetGrain<IAuditLogGrain>("acme").ReadAsync(0, 10));
        Assert.Equal((audit.RequestId, audit.Subject, audit.Action, audit.Target), (logged.Event.RequestId, logged.Event.Subject, logged.Event.Action, logged.Event.Target));
        Assert.Equal(1, await cluster.Client.GetGrain<IAuditLogGrain>("acme").CountAsync());
        var run = await cluster.Client.GetGrain<ITaskRunGrain>("run-1").GetAsync();
        Assert.Equal((TaskRunStatus.Queued, "bob"), (run.Status, run.DecidedBy));
        Assert.Equal(spec.Argv, run.Spec?.Argv);
        var after = await cluster.WaitForDeviceAsync("dev-pi-1", online: true);
        Assert.Equal((before.Record.Registration.DeviceId, before.Record.Registration.HostName), (after.Record.Registration.DeviceId, after.Record.Registration.HostName));
        Assert.Equal(before.Record.Registration.Capabilities, after.Record.Registration.Capabilities);
        Assert.Equal(cluster.Edge("dev-pi-1").Address, after.Record.Silo);
    }
}
