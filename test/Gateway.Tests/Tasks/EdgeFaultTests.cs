using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Outpost.Gateway.Routing;
using System.Net;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.Gateway.Tests.Tasks;

/// <summary>No run outlives its device: killing the edge silo mid-run ends the run, and the sandbox with it.</summary>
public sealed class EdgeFaultTests(TaskFaultFixture fixture) : IClassFixture<TaskFaultFixture>
{
    [Fact]
    public async Task KillingTheEdgeSilo_MidRun_EndsTheTaskFailedWithTheReason()
    {
        var cluster = fixture.Cluster;
        await using var edge = await cluster.StartEdgeSiloProcessAsync("dev-pi-5");
        using var agent = cluster.CreateHttpClient(cluster.IssueDevelopmentToken(OutpostCluster.DefaultTenant, ["code:execute", "tasks:read"], clientId: "fault-agent"));
        var (status, run) = await TaskClusterFixture.SubmitAsync(agent, new { kind = "unit-test", argv = new[] { "/bin/sh", "-c", "echo started; sleep 613" }, device = "dev-pi-5" });
        Assert.Equal(HttpStatusCode.Created, status);
        var id = run.GetProperty("id").GetString()!;
        await TaskClusterFixture.WaitForAsync(agent, id, r => r.GetProperty("status").GetString() == "running" && r.GetProperty("log_bytes").GetInt64() > 0);

        await edge.KillAsync();

        // Membership declares the silo dead within a few probes here (seconds); the run follows at its next check.
        var done = await TaskClusterFixture.WaitForAsync(agent, id, TaskClusterFixture.Ended, TimeSpan.FromSeconds(90));
        Assert.Equal("failed", done.GetProperty("status").GetString());
        Assert.Contains("dev-pi-5 left the cluster while the task was running", done.GetProperty("reason").GetString(), StringComparison.Ordinal);
        var log = await agent.GetStringAsync($"/v1/tasks/{id}/logs");
        Assert.True(log.Contains("started", StringComparison.Ordinal), $"log: [{log}] run: {done}");

        // The sandbox died with its silo (bubblewrap's --die-with-parent and its PID namespace).
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (Alive("sleep 613") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.False(Alive("sleep 613"), "the sandboxed process outlived its edge silo");
    }

    [Fact]
    public async Task KillingTheEdgeSilo_OfARetrySafeRun_StartsItAgainOnAnotherDevice()
    {
        var cluster = fixture.Cluster;
        await using var first = await cluster.StartEdgeSiloProcessAsync("dev-pi-7");
        await using var second = await cluster.StartEdgeSiloProcessAsync("dev-pi-8");
        using var agent = cluster.CreateHttpClient(cluster.IssueDevelopmentToken(OutpostCluster.DefaultTenant, ["code:execute", "tasks:read"], clientId: "retry-agent"));
        var catalog = cluster.Gateway.Services.GetRequiredService<DeviceCatalog>();
        for (var deadline = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < deadline;)
        {
            // Both must be candidates when the run is submitted: the gateway's copy of the directory refreshes each second.
            if (catalog.Devices.Count(d => d.Online && d.Record.Registration.DeviceId is "dev-pi-7" or "dev-pi-8") == 2)
            {
                break;
            }

            await Task.Delay(100);
        }

        var (_, run) = await TaskClusterFixture.SubmitAsync(agent, new { kind = "unit-test", argv = new[] { "/bin/sh", "-c", "echo attempt; sleep 3; echo done" }, retry_safe = true });
        var id = run.GetProperty("id").GetString()!;
        var running = await TaskClusterFixture.WaitForAsync(agent, id, r => r.GetProperty("status").GetString() == "running");
        var victim = running.GetProperty("device").GetString() == "dev-pi-7" ? first : second;
        var survivor = victim == first ? "dev-pi-8" : "dev-pi-7";

        await victim.KillAsync();

        JsonElement done;
        try
        {
            done = await TaskClusterFixture.WaitForAsync(agent, id, TaskClusterFixture.Ended, TimeSpan.FromSeconds(90));
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}\nsurvivor's output:\n{(victim == first ? second : first).Output}", ex);
        }

        Assert.True(done.GetProperty("status").GetString() == "succeeded", done.ToString());
        Assert.Equal(survivor, done.GetProperty("device").GetString());
        Assert.Equal(2, done.GetProperty("attempt").GetInt32());
        Assert.True(done.GetProperty("result_verified").GetBoolean());
        Assert.Contains("done", await agent.GetStringAsync($"/v1/tasks/{id}/logs"), StringComparison.Ordinal);
    }

    internal static bool Alive(string commandLine) =>
        Directory.EnumerateDirectories("/proc").Any(dir =>
        {
            try
            {
                return Path.GetFileName(dir).All(char.IsAsciiDigit) && File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ').Trim() == commandLine;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return false;
            }
        });
}
