using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Outpost.AuditLog.Merkle;
using Outpost.AuditLog.Signing;
using Outpost.AuditLog.Storage;
using Outpost.AuditLog.Verification;
using Outpost.Grains.AuditLogs;
using Outpost.Testing;
using Outpost.Testing.AuditLogs;
using Outpost.Testing.Cluster;
using Outpost.Testing.PostgreSql;
using Xunit;

namespace Outpost.Grains.Tests.AuditLogs;

/// <summary>
/// A cluster whose control silo hands every signed checkpoint to a witness file and to a witness server on loopback
/// that records what it is sent (and can be told to refuse).
/// </summary>
public sealed class AuditWitnessFixture : IAsyncLifetime
{
    private PostgreSqlServer? _postgres;
    private OutpostCluster? _cluster;
    private WebApplication? _witness;

    public OutpostCluster Cluster => _cluster ?? throw new InvalidOperationException("Not initialized.");

    public string WitnessFile { get; } = Path.Combine(Path.GetTempPath(), $"outpost-witness-{Guid.NewGuid():N}.jsonl");

    /// <summary>Every body the witness server was sent, refused or not, in arrival order.</summary>
    public ConcurrentQueue<string> Sent { get; } = new();

    /// <summary>The bodies the witness server accepted, in arrival order.</summary>
    public ConcurrentQueue<string> Received { get; } = new();

    /// <summary>What the witness server answers; anything but 2xx is a refusal.</summary>
    public int Status { get; set; } = StatusCodes.Status202Accepted;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _witness = builder.Build();
        _witness.MapPost("/checkpoints", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            Sent.Enqueue(body);
            if (Status is >= 200 and < 300)
            {
                Received.Enqueue(body);
            }

            return Results.StatusCode(Status);
        });
        await _witness.StartAsync();

        _postgres = await PostgreSqlServer.StartAsync();
        _cluster = await OutpostCluster.StartAsync(_postgres, new OutpostClusterSettings
        {
            EdgeDevices = [],
            ControlConfiguration = new Dictionary<string, string?>
            {
                ["Audit:WitnessFile"] = WitnessFile,
                ["Audit:WitnessUrl"] = new Uri(new Uri(_witness.Urls.First()), "/checkpoints").ToString(),
                ["Audit:WitnessTimeout"] = "00:00:02",
            },
        });
    }

    public async Task DisposeAsync()
    {
        await Disposal.DisposeInOrderAsync(_cluster, _postgres, _witness);
        File.Delete(WitnessFile);
    }
}

public sealed class AuditWitnessTests(AuditWitnessFixture fixture) : IClassFixture<AuditWitnessFixture>, IAsyncDisposable
{
    private AuditSigner Signer => fixture.Cluster.Control.Host.Services.GetRequiredService<AuditSigner>();

    private NpgsqlDataSource? _owner;

    public async ValueTask DisposeAsync()
    {
        if (_owner is not null)
        {
            await _owner.DisposeAsync();
        }
    }

    [Fact]
    public async Task SignedCheckpoint_ReachesTheWitnessFileAndServer_AndVerifiesWithThePublishedKey()
    {
        var tenant = AuditSamples.NewTenant("witness");
        var log = fixture.Cluster.Client.GetGrain<IAuditLogGrain>(tenant);
        await log.AppendBatchAsync(Enumerable.Range(0, 3).Select(i => AuditSamples.Event(i)).ToList());

        var signed = await log.SignCheckpointAsync();

        var keys = await PublicKeysAsync();
        foreach (var copy in new[] { Assert.Single(FileLines(tenant)), Assert.Single(fixture.Received, body => body.Contains(tenant, StringComparison.Ordinal)) })
        {
            var witnessed = WitnessRecord.Parse(copy);
            Assert.Equal(
                (signed.TreeSize, Convert.ToBase64String(signed.RootHash), signed.KeyId),
                (witnessed.TreeSize, Convert.ToBase64String(witnessed.RootHash), witnessed.KeyId));
            Assert.True(AuditSigner.Verify(witnessed, keys[witnessed.KeyId]), copy);
        }
    }

    [Fact]
    public async Task WitnessServerRefuses_SigningStillSucceeds_AndTheFileStillGetsIt()
    {
        var tenant = AuditSamples.NewTenant("witness-down");
        var log = fixture.Cluster.Client.GetGrain<IAuditLogGrain>(tenant);
        await log.AppendBatchAsync([AuditSamples.Event(1)]);
        fixture.Status = StatusCodes.Status503ServiceUnavailable;
        try
        {
            var signed = await log.SignCheckpointAsync();

            Assert.Equal(1, signed.TreeSize);
            Assert.Equal(signed.TreeSize, WitnessRecord.Parse(Assert.Single(FileLines(tenant))).TreeSize);
            Assert.Contains(fixture.Sent, body => body.Contains(tenant, StringComparison.Ordinal));
            Assert.DoesNotContain(fixture.Received, body => body.Contains(tenant, StringComparison.Ordinal));
        }
        finally
        {
            fixture.Status = StatusCodes.Status202Accepted;
        }
    }

    [Fact]
    public async Task HistoryRewrittenAndResignedWithTheAuditKey_PassesTheDatabaseAlone_ButNotTheWitness()
    {
        var tenant = AuditSamples.NewTenant("witness-forged");
        var log = fixture.Cluster.Client.GetGrain<IAuditLogGrain>(tenant);
        var events = Enumerable.Range(0, 4).Select(i => AuditSamples.Event(i)).ToList();
        await log.AppendBatchAsync(events);
        await log.SignCheckpointAsync();

        // An attacker with the database and the audit key: edit an event, recompute its leaf, re-sign the checkpoint.
        var edited = AuditLeaf.Normalize(events[1]) with { Subject = "mallory" };
        await AuditTampering.AsSuperuserAsync(
            fixture.Cluster.ConnectionString,
            $"UPDATE outpost_audit_events SET subject = 'mallory', leaf_hash = '\\x{Convert.ToHexStringLower(AuditLeaf.Hash(tenant, 1, edited))}' WHERE tenant_id = @t AND seq = 1",
            tenant);
        var forgedTree = new MerkleTree();
        await foreach (var (_, leaf) in new AuditStore(OwnerDataSource).ReadLeavesAsync(tenant, 0))
        {
            forgedTree.Append(leaf);
        }

        var forged = await fixture.Cluster.Control.Host.Services.GetRequiredService<AuditSigner>().SignAsync(tenant, 4, forgedTree.RootHash());
        await AuditTampering.AsSuperuserAsync(
            fixture.Cluster.ConnectionString, "DELETE FROM outpost_audit_checkpoints WHERE tenant_id = @t", tenant, "outpost_audit_checkpoints");
        await new AuditStore(OwnerDataSource).AddCheckpointAsync(forged);

        var verifier = new AuditVerifier(OwnerDataSource, Signer);
        var fooled = await verifier.VerifyAsync(tenant);
        var witnessed = File.ReadAllLines(fixture.WitnessFile).Select(WitnessRecord.Parse).ToList();
        var caught = await verifier.VerifyAsync(tenant, logSize: null, trustedLeaves: null, witnessed);

        Assert.True(fooled.Valid, fooled.FirstProblem?.Detail);
        Assert.False(caught.Valid);
        Assert.Equal((AuditProblemKind.WitnessMismatch, 4L), (caught.FirstProblem!.Kind, caught.FirstProblem.CheckpointSize));
        var output = new StringWriter();
        var exitCode = await Outpost.Admin.AdminCli.RunAsync(
            ["audit", "verify", tenant, "--witness", fixture.WitnessFile, $"--ConnectionStrings:Outpost={fixture.Cluster.ConnectionString}", $"--Security:MasterKeyFile={fixture.Cluster.MasterKeyFile}"],
            new StringReader(""),
            output,
            new StringWriter());
        Assert.True(exitCode == 3, output.ToString());
        Assert.Contains("witness_mismatch", output.ToString(), StringComparison.Ordinal);
    }

    private NpgsqlDataSource OwnerDataSource => _owner ??= NpgsqlDataSource.Create(fixture.Cluster.ConnectionString);


    private List<string> FileLines(string tenant) =>
        [.. File.ReadAllLines(fixture.WitnessFile).Where(line => line.Contains($"\"tenant\":\"{tenant}\"", StringComparison.Ordinal))];

    private async Task<IReadOnlyDictionary<string, byte[]>> PublicKeysAsync()
    {
        await using var dataSource = NpgsqlDataSource.Create(fixture.Cluster.ConnectionString);
        return await Signer.ReadTrustedPublicKeysAsync();
    }
}
