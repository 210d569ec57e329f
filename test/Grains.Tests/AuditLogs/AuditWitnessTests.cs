using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Npgsql;
using Outpost.Grains.AuditLogs;
using Outpost.Testing;
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

public sealed class AuditWitnessTests(AuditWitnessFixture fixture) : IClassFixture<AuditWitnessFixture>
{
    [Fact]
    public async Task SignedCheckpoint_ReachesTheWitnessFileAndServer_AndVerifiesWithThePublishedKey()
    {
        var tenant = AuditLogGrainTests.NewTenant("witness");
        var log = fixture.Cluster.Client.GetGrain<IAuditLogGrain>(tenant);
        await log.AppendBatchAsync(Enumerable.Range(0, 3).Select(i => AuditLogGrainTests.Event(i)).ToList());

        var signed = await log.SignCheckpointAsync();

        var keys = await PublicKeysAsync();
        foreach (var copy in new[] { Assert.Single(FileLines(tenant)), Assert.Single(fixture.Received, body => body.Contains(tenant, StringComparison.Ordinal)) })
        {
            var witnessed = Parse(copy);
            Assert.Equal(
                (signed.TreeSize, Convert.ToBase64String(signed.RootHash), signed.KeyId),
                (witnessed.TreeSize, Convert.ToBase64String(witnessed.RootHash), witnessed.KeyId));
            Assert.True(AuditSigner.Verify(witnessed, keys[witnessed.KeyId]), copy);
        }
    }

    [Fact]
    public async Task WitnessServerRefuses_SigningStillSucceeds_AndTheFileStillGetsIt()
    {
        var tenant = AuditLogGrainTests.NewTenant("witness-down");
        var log = fixture.Cluster.Client.GetGrain<IAuditLogGrain>(tenant);
        await log.AppendBatchAsync([AuditLogGrainTests.Event(1)]);
        fixture.Status = StatusCodes.Status503ServiceUnavailable;
        try
        {
            var signed = await log.SignCheckpointAsync();

            Assert.Equal(1, signed.TreeSize);
            Assert.Equal(signed.TreeSize, Parse(Assert.Single(FileLines(tenant))).TreeSize);
            Assert.DoesNotContain(fixture.Received, body => body.Contains(tenant, StringComparison.Ordinal));
        }
        finally
        {
            fixture.Status = StatusCodes.Status202Accepted;
        }
    }

    private List<string> FileLines(string tenant) =>
        [.. File.ReadAllLines(fixture.WitnessFile).Where(line => line.Contains($"\"tenant\":\"{tenant}\"", StringComparison.Ordinal))];

    private static AuditCheckpoint Parse(string json)
    {
        var root = JsonDocument.Parse(json).RootElement;
        return new AuditCheckpoint(
            root.GetProperty("tenant").GetString()!,
            root.GetProperty("tree_size").GetInt64(),
            Convert.FromBase64String(root.GetProperty("root_hash").GetString()!),
            DateTimeOffset.Parse(root.GetProperty("signed_at").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
            root.GetProperty("key_id").GetString()!,
            Convert.FromBase64String(root.GetProperty("signature").GetString()!));
    }

    private async Task<IReadOnlyDictionary<string, byte[]>> PublicKeysAsync()
    {
        await using var dataSource = NpgsqlDataSource.Create(fixture.Cluster.ConnectionString);
        return await AuditSigner.ReadPublicKeysAsync(dataSource);
    }
}
