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
