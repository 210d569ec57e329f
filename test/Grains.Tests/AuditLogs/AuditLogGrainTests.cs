using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Outpost.AuditLog.Signing;
using Outpost.AuditLog.Storage;
using Outpost.Grains.AuditLogs;
using Outpost.Testing.AuditLogs;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.Grains.Tests.AuditLogs;

[Collection(ClusterCollection.Name)]
public sealed class AuditLogGrainTests(OutpostClusterFixture fixture)
{
    private AuditSigner Signer => fixture.Cluster.Control.Host.Services.GetRequiredService<AuditSigner>();

    private IClusterClient Client => fixture.Cluster.Client;

    [Fact]
    public async Task AppendAsync_SeveralEvents_NumbersThemDenselyInOrder()
    {
        var log = Client.GetGrain<IAuditLogGrain>(AuditSamples.NewTenant("audit-order"));
        var events = Enumerable.Range(0, 5).Select(i => AuditSamples.Event(i)).ToList();

        var entries = new List<AuditEntry>();
        foreach (var auditEvent in events)
        {
            entries.Add(await log.AppendAsync(auditEvent));
        }

        Assert.Equal([0L, 1, 2, 3, 4], entries.Select(e => e.Sequence));
        Assert.Equal(5, await log.CountAsync());
        var page = await log.ReadAsync(fromSequence: 2, maxCount: 2);
        Assert.Equal([events[2].RequestId, events[3].RequestId], page.Select(e => e.Event.RequestId));
    }

    [Fact]
    public async Task AppendBatchAsync_ManyConcurrentCallers_GetDenseUniquePositionsAllStored()
    {
        var tenant = AuditSamples.NewTenant("audit-concurrent");
        var log = Client.GetGrain<IAuditLogGrain>(tenant);
        var batches = Enumerable.Range(0, 40).Select(b => Enumerable.Range(0, 25).Select(i => AuditSamples.Event(b * 25 + i)).ToList()).ToList();

        var results = await Task.WhenAll(batches.Select(batch => log.AppendBatchAsync(batch)));

        var positions = results.SelectMany(r => r).Order().ToList();
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => (long)i), positions);
        var stored = await ReadStoredAsync(tenant);
        Assert.Equal(1000, stored.Count);
        for (var b = 0; b < batches.Count; b++)
        {
            for (var i = 0; i < batches[b].Count; i++)
            {
                Assert.Equal(batches[b][i].RequestId, stored[results[b][i]]);
            }
        }
    }

    [Fact]
    public async Task AppendBatchAsync_RetriedRequestId_IsLoggedOnce()
    {
        var tenant = AuditSamples.NewTenant("audit-retry");
        var log = Client.GetGrain<IAuditLogGrain>(tenant);
        var first = AuditSamples.Event(1);

        var once = await log.AppendBatchAsync([first, AuditSamples.Event(2)]);
        var again = await log.AppendBatchAsync([first, AuditSamples.Event(3)]);
        await Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        var afterReload = await log.AppendBatchAsync([first]);

        Assert.Equal([0L, 1], once);
        Assert.Equal([0L, 2], again);
        Assert.Equal([0L], afterReload);
        Assert.Equal(3, (await ReadStoredAsync(tenant)).Count);
    }

    [Fact]
    public async Task ReadAsync_AfterDeactivation_ReturnsWhatWasAppended()
    {
        var log = Client.GetGrain<IAuditLogGrain>(AuditSamples.NewTenant("audit-durable"));
        var events = new[] { AuditSamples.Event(1), AuditSamples.Event(2) };
        await log.AppendAsync(events[0]);
        await log.AppendAsync(events[1]);

        await Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        var all = await log.ReadAsync(0, 100);
        Assert.Equal(events.Select(e => e.RequestId), all.Select(e => e.Event.RequestId));
        Assert.Equal(2, await log.CountAsync());
    }

    [Fact]
    public async Task ReadAsync_PastTheEnd_ReturnsEmpty()
    {
        var log = Client.GetGrain<IAuditLogGrain>(AuditSamples.NewTenant("audit-past-end"));
        await log.AppendAsync(AuditSamples.Event(1));

        Assert.Empty(await log.ReadAsync(10, 5));
    }

    [Fact]
    public async Task SignCheckpointAsync_SignsTheRootOfTheStoredEvents_WithAKeyFromTheDatabase()
    {
        var tenant = AuditSamples.NewTenant("audit-sign");
        var log = Client.GetGrain<IAuditLogGrain>(tenant);
        var events = Enumerable.Range(0, 7).Select(i => AuditSamples.Event(i)).ToList();
        await log.AppendBatchAsync(events);

        var checkpoint = await log.SignCheckpointAsync();

        Assert.Equal(7, checkpoint.TreeSize);
        var leaves = events.Select((e, i) => AuditLeaf.Hash(tenant, i, AuditLeaf.Normalize(e))).ToList();
        Assert.Equal(Rfc9162Verifier.RootHash(leaves), checkpoint.RootHash);
        await using var dataSource = NpgsqlDataSource.Create(fixture.Cluster.ConnectionString);
        var keys = await Signer.ReadTrustedPublicKeysAsync();
        Assert.True(AuditSigner.Verify(checkpoint, keys[checkpoint.KeyId]));
        Assert.False(AuditSigner.Verify(checkpoint with { TreeSize = 8 }, keys[checkpoint.KeyId]));
        Assert.Equal(checkpoint.Signature, (await log.SignCheckpointAsync()).Signature);
        Assert.Equal(checkpoint.SignedAt, (await log.GetLatestCheckpointAsync())!.SignedAt);
    }

    [Fact]
    public async Task Proofs_VerifyWithAnIndependentRfc9162Verifier_AndFailForAWrongLeafOrAForkedHistory()
    {
        var tenant = AuditSamples.NewTenant("audit-proofs");
        var log = Client.GetGrain<IAuditLogGrain>(tenant);
        var events = Enumerable.Range(0, 13).Select(i => AuditSamples.Event(i)).ToList();
        await log.AppendBatchAsync(events[..5]);
        var early = await log.SignCheckpointAsync();
        await log.AppendBatchAsync(events[5..]);
        var late = await log.SignCheckpointAsync();

        for (var i = 0; i < 13; i++)
        {
            var proof = await log.GetInclusionProofAsync(i, late.TreeSize);
            var leaf = AuditLeaf.Hash(tenant, i, AuditLeaf.Normalize(events[i]));
            Assert.Equal(leaf, proof.LeafHash);
            Assert.True(Rfc9162Verifier.VerifyInclusion(leaf, i, late.TreeSize, proof.Path, late.RootHash));
            var wrongLeaf = AuditLeaf.Hash(tenant, i, AuditLeaf.Normalize(events[i] with { Subject = "mallory" }));
            Assert.False(Rfc9162Verifier.VerifyInclusion(wrongLeaf, i, late.TreeSize, proof.Path, late.RootHash));
        }

        var consistency = await log.GetConsistencyProofAsync(early.TreeSize, late.TreeSize);
        Assert.True(Rfc9162Verifier.VerifyConsistency(early.TreeSize, late.TreeSize, early.RootHash, late.RootHash, consistency.Path));

        // A fork: another log with the same first four events and a different fifth one.
        var forkTenant = AuditSamples.NewTenant("audit-fork");
        var fork = Client.GetGrain<IAuditLogGrain>(forkTenant);
        var forkedEvents = events[..4].Select(e => e with { RequestId = Guid.NewGuid().ToString("N") }).Append(AuditSamples.Event(99)).ToList();
        await fork.AppendBatchAsync(forkedEvents);
        var forkCheckpoint = await fork.SignCheckpointAsync();
        Assert.False(Rfc9162Verifier.VerifyConsistency(early.TreeSize, late.TreeSize, forkCheckpoint.RootHash, late.RootHash, consistency.Path));
    }

    private async Task<Dictionary<long, string>> ReadStoredAsync(string tenant)
    {
        await using var connection = new NpgsqlConnection(fixture.Cluster.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT seq, request_id FROM outpost_audit_events WHERE tenant_id = @t", connection);
        command.Parameters.AddWithValue("t", tenant);
        var rows = new Dictionary<long, string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetInt64(0), reader.GetString(1));
        }

        return rows;
    }
}
