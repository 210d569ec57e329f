using System.Security.Cryptography;
using System.Text.Json;
using Outpost.Grains.AuditLogs;
using Outpost.Grains.TaskRuns;
using Xunit;

namespace Outpost.Gateway.Tests.Tasks;

/// <summary>The control plane records no outcome a device did not sign: a result with a bad signature is refused.</summary>
[Collection(TaskClusterCollection.Name)]
public sealed class ResultVerificationTests(TaskClusterFixture fixture)
{
    [Fact]
    public async Task Complete_TamperedResultSignature_IsRefusedByTheGrainAndAudited()
    {
        using var agent = fixture.Agent("tamper-agent");
        var (_, run) = await TaskClusterFixture.SubmitAsync(agent, new { kind = "unit-test", argv = new[] { "/bin/sh", "-c", "echo working; sleep 611" } });
        var id = run.GetProperty("id").GetString()!;
        await TaskClusterFixture.WaitForAsync(agent, id, r => r.GetProperty("status").GetString() == "running" && r.GetProperty("log_bytes").GetInt64() > 0);
        var attestation = await fixture.Cluster.Client.GetGrain<ITaskRunGrain>(id).GetAttestationAsync();
        var manifestSha = TaskSignatures.Sha256Hex(attestation!.Manifest.ManifestJson);
        var log = "working\n"u8.ToArray();

        // What the device would report for a pass, signed by someone else's key: as if the result were rewritten on the way.
        var forgedResult = new TaskResult(id, TaskClusterFixture.DeviceId, manifestSha, TaskResult.Exited, 0, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, 1,
            Convert.ToHexStringLower(SHA256.HashData(log)), log.Length, [], null);
        var json = JsonSerializer.Serialize(forgedResult, TaskSignatures.Json);
        using var impostor = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var status = await fixture.Cluster.Client.GetGrain<ITaskRunExecutionGrain>(id)
            .CompleteAsync(TaskClusterFixture.DeviceId, new SignedTaskResult(json, TaskSignatures.Sign(impostor, TaskSignatures.ResultText(json))));

        Assert.Equal(TaskRunStatus.Failed, status);
        var done = await TaskClusterFixture.WaitForAsync(agent, id, TaskClusterFixture.Ended);
        Assert.Equal("failed", done.GetProperty("status").GetString());
        Assert.False(done.GetProperty("result_verified").GetBoolean());
        Assert.Contains("signature does not verify", done.GetProperty("reason").GetString(), StringComparison.Ordinal);
        var events = await fixture.Cluster.Client.GetGrain<IAuditLogGrain>(TaskClusterFixture.Tenant).ReadAsync(0, 100_000);
        Assert.Contains(events, e => e.Event.Action == "task.result_refused" && e.Event.Decision == AuditEvent.Denied && e.Event.Reason.Contains(id, StringComparison.Ordinal));

        // The run the device was really running is stopped there too.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (EdgeFaultTests.Alive("sleep 611") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.False(EdgeFaultTests.Alive("sleep 611"), "the device kept running a run whose result was refused");
    }
}
