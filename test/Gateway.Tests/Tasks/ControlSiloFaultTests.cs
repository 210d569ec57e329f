using Outpost.Grains.TaskRuns;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.Gateway.Tests.Tasks;

/// <summary>A control silo's death loses no run: the run's grain comes back on another silo from PostgreSQL.</summary>
public sealed class ControlSiloFaultTests(TaskFaultFixture fixture) : IClassFixture<TaskFaultFixture>
{
    [Fact]
    public async Task KillingTheControlSilo_HoldingTheRun_LosesNothing()
    {
        var cluster = fixture.Cluster;
        await using var edge = cluster.StartEdgeSiloProcess("dev-pi-6", new Dictionary<string, string?> { ["Edge:Sandbox:MaxConcurrentRuns"] = "8" });
        await cluster.WaitForDeviceAsync("dev-pi-6", online: true);
        var management = cluster.Client.GetGrain<IManagementGrain>(0);
        var before = (await management.GetHosts(onlyActive: true)).Keys.ToHashSet();
        await using var victim = await cluster.StartControlSiloProcessAsync();
        var victimAddress = (await management.GetHosts(onlyActive: true)).Keys.Single(address => !before.Contains(address));
        using var agent = cluster.CreateHttpClient(cluster.IssueDevelopmentToken(OutpostCluster.DefaultTenant, ["code:execute", "tasks:read"], clientId: "restart-agent"));

        // Submit until a run's grain lives on the silo about to die (placement is random among control silos).
        string? id = null;
        for (var attempt = 0; attempt < 40 && id is null; attempt++)
        {
            var (_, run) = await TaskClusterFixture.SubmitAsync(agent, new { kind = "unit-test", argv = new[] { "/bin/sh", "-c", "echo first; sleep 4; echo second" }, device = "dev-pi-6" });
            var candidate = run.GetProperty("id").GetString()!;
            var address = await management.GetActivationAddress(cluster.Client.GetGrain<ITaskRunGrain>(candidate));
            id = address == victimAddress ? candidate : null;
        }

        Assert.NotNull(id);
        await TaskClusterFixture.WaitForAsync(agent, id!, r => r.GetProperty("status").GetString() == "running");
        await victim.KillAsync();

        var done = await TaskClusterFixture.WaitForAsync(agent, id!, TaskClusterFixture.Ended, TimeSpan.FromSeconds(120));
        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        Assert.True(done.GetProperty("result_verified").GetBoolean());
        var log = await agent.GetStringAsync($"/v1/tasks/{id}/logs");
        Assert.Contains("first", log, StringComparison.Ordinal);
        Assert.Contains("second", log, StringComparison.Ordinal);
    }
}
