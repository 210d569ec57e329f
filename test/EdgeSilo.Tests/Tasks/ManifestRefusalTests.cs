using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Outpost.Execution.Signing;
using Outpost.Grains.AuditLogs;
using Outpost.Grains.EdgeDevices;
using Outpost.Grains.TaskRuns;
using Xunit;

namespace Outpost.EdgeSilo.Tests.Tasks;

/// <summary>
/// A device refuses any manifest it cannot trust for itself, and every refusal reaches the audit log: tampered,
/// endorsed by an unpublished key, expired, for another device, or a run id it already ran.
/// </summary>
public sealed class ManifestRefusalTests(ManifestRefusalFixture fixture) : IClassFixture<ManifestRefusalFixture>
{
    private IEdgeDeviceGrain Device => fixture.Cluster.Client.GetGrain<IEdgeDeviceGrain>(ManifestRefusalFixture.DeviceId);

    [Fact]
    public async Task StartTask_ValidManifest_IsAcceptedOnceAndItsReplayRefused()
    {
        var runId = NewRunId();
        var manifest = await SignAsync(Manifest(runId, ManifestRefusalFixture.DeviceId));
        await Device.StartTaskAsync(manifest);
        var replay = await Assert.ThrowsAsync<TaskRefusedException>(() => Device.StartTaskAsync(manifest));
        Assert.Contains("already accepted", replay.Message, StringComparison.Ordinal);
        await AssertRefusalAuditedAsync(runId, "already accepted");

        // A replay with the attempt changed is no longer the signed manifest.
        var bumped = manifest with { ManifestJson = manifest.ManifestJson.Replace("\"attempt\":1", "\"attempt\":2", StringComparison.Ordinal) };
        Assert.NotEqual(manifest.ManifestJson, bumped.ManifestJson);
        Assert.Contains("altered", (await Assert.ThrowsAsync<TaskRefusedException>(() => Device.StartTaskAsync(bumped))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartTask_TamperedManifest_IsRefusedAndAudited()
    {
        var runId = NewRunId();
        var signed = await SignAsync(Manifest(runId, ManifestRefusalFixture.DeviceId));
        // The same signature over different argv: what an attacker between the control plane and the device would send.
        var tampered = signed with { ManifestJson = signed.ManifestJson.Replace("\"true\"", "\"sh\"", StringComparison.Ordinal) };
        Assert.NotEqual(signed.ManifestJson, tampered.ManifestJson);
        var refusal = await Assert.ThrowsAsync<TaskRefusedException>(() => Device.StartTaskAsync(tampered));
        Assert.Contains("altered", refusal.Message, StringComparison.Ordinal);
        await AssertRefusalAuditedAsync(runId, "altered");
    }

    [Fact]
    public async Task StartTask_EndorsedByAnUnpublishedKey_IsRefusedAndAudited()
    {
        var runId = NewRunId();
        var manifest = Manifest(runId, ManifestRefusalFixture.DeviceId);
        using var rogue = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var ephemeral = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var json = JsonSerializer.Serialize(manifest, TaskSignatures.Json);
        var publicKey = ephemeral.ExportSubjectPublicKeyInfo();
        var endorsement = new ManifestEndorsement(
            TaskSignatures.KeyIdOf(rogue.ExportSubjectPublicKeyInfo()),
            TaskSignatures.Sign(rogue, TaskSignatures.EndorsementText(runId, manifest.Device, publicKey, manifest.ExpiresAt)));
        var forged = new SignedManifest(json, TaskSignatures.Sign(ephemeral, TaskSignatures.ManifestText(json)), publicKey, endorsement);
        var refusal = await Assert.ThrowsAsync<TaskRefusedException>(() => Device.StartTaskAsync(forged));
        Assert.Contains("not a published task-signing key", refusal.Message, StringComparison.Ordinal);
        await AssertRefusalAuditedAsync(runId, "not a published task-signing key");

        // A real key id with a rogue signature is no better (signing once makes sure the cluster has a key).
        await SignAsync(Manifest(NewRunId(), ManifestRefusalFixture.DeviceId));
        var keys = await fixture.Cluster.Client.GetGrain<ITaskKeyRingGrain>(ITaskKeyRingGrain.Key).ListAsync();
        Assert.NotEmpty(keys);
        var borrowed = forged with { Endorsement = endorsement with { KeyId = keys[0].KeyId } };
        var second = await Assert.ThrowsAsync<TaskRefusedException>(() => Device.StartTaskAsync(borrowed));
        Assert.Contains("does not cover", second.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartTask_ExpiredManifest_IsRefusedAndAudited()
    {
        var runId = NewRunId();
        var now = DateTimeOffset.UtcNow;
        var manifest = await SignAsync(Manifest(runId, ManifestRefusalFixture.DeviceId) with { IssuedAt = now.AddMinutes(-10), ExpiresAt = now.AddMinutes(-5) });
        var refusal = await Assert.ThrowsAsync<TaskRefusedException>(() => Device.StartTaskAsync(manifest));
        Assert.Contains("expired", refusal.Message, StringComparison.Ordinal);
        await AssertRefusalAuditedAsync(runId, "expired");
    }

    [Fact]
    public async Task StartTask_ManifestForAnotherDevice_IsRefusedAndAudited()
    {
        var runId = NewRunId();
        var manifest = await SignAsync(Manifest(runId, "dev-pi-9"));
        var refusal = await Assert.ThrowsAsync<TaskRefusedException>(() => Device.StartTaskAsync(manifest));
        Assert.Contains("for device 'dev-pi-9'", refusal.Message, StringComparison.Ordinal);
        await AssertRefusalAuditedAsync(runId, "dev-pi-9");
    }

    [Fact]
    public async Task Registration_AdvertisesExecutionWithTheSandboxCapsAndTheDeviceKey()
    {
        var device = await fixture.Cluster.WaitForDeviceAsync(ManifestRefusalFixture.DeviceId, online: true);
        var registration = device.Record.Registration;
        Assert.Contains(DeviceTasks.Execute, registration.Capabilities);
        Assert.Contains("sandbox:bwrap", registration.Capabilities);
        Assert.NotNull(registration.ExecutionKey);
        using var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(registration.ExecutionKey, out _);
        Assert.Equal(256, key.KeySize);
    }

    private static string NewRunId() => "run_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    private static TaskManifest Manifest(string runId, string device)
    {
        var now = DateTimeOffset.UtcNow;
        return new TaskManifest(
            TaskManifest.CurrentVersion, runId, "refusal-tests", device, 1, "unit-test", ["true"], new Dictionary<string, string>(), [], [],
            TaskManifest.SandboxWorkDirectory, new TaskLimits(10, 10, 256L * 1024 * 1024, 32, 65536, 1024 * 1024, 64), TaskRunSpec.NoNetwork, now, now.AddMinutes(5));
    }

    /// <summary>Signs as the control plane does: an ephemeral key, endorsed by the cluster's own task-signing key.</summary>
    private async Task<SignedManifest> SignAsync(TaskManifest manifest)
    {
        var ring = fixture.Cluster.Control.Host.Services.GetRequiredService<TaskKeyRing>();
        using var ephemeral = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var json = JsonSerializer.Serialize(manifest, TaskSignatures.Json);
        var publicKey = ephemeral.ExportSubjectPublicKeyInfo();
        var endorsement = await ring.EndorseAsync(manifest.RunId, manifest.Device, publicKey, manifest.ExpiresAt);
        return new SignedManifest(json, TaskSignatures.Sign(ephemeral, TaskSignatures.ManifestText(json)), publicKey, endorsement);
    }

    /// <summary>The refusal of a run that does not exist is in the system tenant's log (the manifest's claims are not trusted).</summary>
    private async Task AssertRefusalAuditedAsync(string runId, string reason)
    {
        var log = fixture.Cluster.Client.GetGrain<IAuditLogGrain>(TaskRunGrain.SystemTenant);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var entries = await log.ReadAsync(0, 100_000);
            if (entries.Any(e => e.Event.Action == "task.manifest_refused" && e.Event.Decision == AuditEvent.Denied
                && e.Event.Reason.Contains(runId, StringComparison.Ordinal) && e.Event.Reason.Contains(reason, StringComparison.Ordinal)
                && e.Event.Device == ManifestRefusalFixture.DeviceId))
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"No audited refusal of {runId} ({reason}) in the system tenant's log.");
    }
}
