using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Outpost.AuditLog.Merkle;
using Outpost.AuditLog.Signing;
using Outpost.AuditLog.Storage;
using Outpost.AuditLog.Verification;
using Outpost.Grains.AuditLogs;
using Outpost.Testing.AuditLogs;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.AuditLog.Tests.Verification;

/// <summary>
/// The attack of a stolen services login (not a superuser: no trigger is switched off): add an audit key of one's own,
/// sign a checkpoint with it, record a prune at that checkpoint and delete the tenant's oldest events behind it.
/// Every row is one the role may insert; verification must still refuse to believe them.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class AuditForgeryTests(OutpostClusterFixture fixture)
{
    private OutpostCluster Cluster => fixture.Cluster;

    private AuditSigner Signer => Cluster.Control.Host.Services.GetRequiredService<AuditSigner>();

    [Fact]
    public async Task Verify_ForgedKeyCheckpointAndPrune_FailsAsUnsignedPrune_AndTheCliExitsThree()
    {
        var tenant = await CreateLogAsync("forged-prune");
        using var forgedKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await using var attacker = NpgsqlDataSource.Create(Cluster.ServiceConnectionString);
        var keyId = await InsertForgedKeyAsync(attacker, forgedKey);
        var range = await ForgeCheckpointAsync(attacker, tenant, forgedKey, keyId, size: 8);

        // The prune even carries a valid signature, by the forged key; then the events it "released" go.
        var text = System.Text.Encoding.UTF8.GetBytes(
            $"outpost.audit.prune/v1\n{tenant}\n8\n{Convert.ToBase64String(range.SelectMany(h => h).ToArray())}\n");
        await ExecuteAsync(attacker,
            "INSERT INTO outpost_audit_prunes (tenant_id, tree_size, compact_range, key_id, signature) VALUES (@t, 8, @range, @kid, @sig)",
            ("t", tenant), ("range", range.SelectMany(h => h).ToArray()), ("kid", keyId),
            ("sig", forgedKey.SignData(text, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)));
        var deleted = await ExecuteAsync(attacker, "DELETE FROM outpost_audit_events WHERE tenant_id = @t AND seq < 8", ("t", tenant));
        await ExecuteAsync(attacker, "DELETE FROM outpost_audit_checkpoints WHERE tenant_id = @t AND tree_size < 8", ("t", tenant));

        var result = await new AuditVerifier(attacker, Signer).VerifyAsync(tenant, logSize: null);
        var (exitCode, output) = await RunCliAsync("audit", "verify", tenant);

        Assert.Equal(8, deleted);
        Assert.False(result.Valid);
        Assert.Equal((AuditProblemKind.UnsignedPrune, 8L), (result.FirstProblem!.Kind, result.FirstProblem.CheckpointSize));
        Assert.Contains(keyId, result.FirstProblem.Detail, StringComparison.Ordinal);
        Assert.Equal(3, exitCode);
        Assert.Contains("unsigned_prune", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_CheckpointSignedWithAnInsertedKey_FailsAsUnendorsedKey_AndTheKeyIsNeitherPublishedNorUsed()
    {
        var tenant = await CreateLogAsync("forged-key");
        using var forgedKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await using var attacker = NpgsqlDataSource.Create(Cluster.ServiceConnectionString);
        var keyId = await InsertForgedKeyAsync(attacker, forgedKey);
        await ForgeCheckpointAsync(attacker, tenant, forgedKey, keyId, size: 8);

        var result = await new AuditVerifier(attacker, Signer).VerifyAsync(tenant, logSize: null);
        var keys = await Signer.ListAsync();
        var log = Cluster.Client.GetGrain<IAuditLogGrain>(tenant);
        await log.AppendBatchAsync([AuditSamples.Event(50)]);
        var next = await log.SignCheckpointAsync();

        Assert.Equal((AuditProblemKind.UnendorsedKey, 8L), (result.FirstProblem?.Kind, result.FirstProblem?.CheckpointSize));
        Assert.False(Assert.Single(keys, k => k.KeyId == keyId).Endorsed);
        Assert.DoesNotContain(keyId, (await Signer.ReadTrustedPublicKeysAsync()).Keys);
        Assert.NotEqual(keyId, next.KeyId);
        Assert.Equal(next.KeyId, Assert.Single(keys, k => k.Signing).KeyId);
    }

    [Fact]
    public async Task Verify_PruneTheAuditLogMadeItself_IsHonoured()
    {
        var tenant = AuditSamples.NewTenant("signed-prune");
        var log = Cluster.Client.GetGrain<IAuditLogGrain>(tenant);
        await log.AppendBatchAsync([.. Enumerable.Range(0, 4).Select(i => AuditSamples.Event(i, DateTimeOffset.UtcNow.AddDays(-30)))]);
        await log.SignCheckpointAsync();
        await log.AppendBatchAsync([AuditSamples.Event(4)]);
        await log.SignCheckpointAsync();
        await using var owner = NpgsqlDataSource.Create(Cluster.ConnectionString);
        await new AuditStore(owner).SetSettingsAsync(tenant, new AuditSettings(RetentionDays: 7, StoreBodies: false));

        Assert.Equal(4, await log.PruneExpiredAsync());
        var prune = await new AuditStore(owner).LatestPruneAsync(tenant);
        var result = await new AuditVerifier(owner, Signer).VerifyAsync(tenant, logSize: null);

        Assert.True(result.Valid, result.FirstProblem?.Detail);
        Assert.NotNull(prune?.Signature);
        Assert.Contains(prune!.KeyId!, (await Signer.ReadTrustedPublicKeysAsync()).Keys);
    }

    /// <summary>Twelve events with checkpoints at 5 and 12.</summary>
    private async Task<string> CreateLogAsync(string name)
    {
        var tenant = AuditSamples.NewTenant(name);
        var log = Cluster.Client.GetGrain<IAuditLogGrain>(tenant);
        var events = Enumerable.Range(0, 12).Select(i => AuditSamples.Event(i)).ToList();
        await log.AppendBatchAsync(events[..5]);
        await log.SignCheckpointAsync();
        await log.AppendBatchAsync(events[5..]);
        await log.SignCheckpointAsync();
        return tenant;
    }

    private static async Task<string> InsertForgedKeyAsync(NpgsqlDataSource attacker, ECDsa key)
    {
        var publicKey = key.ExportSubjectPublicKeyInfo();
        var keyId = AuditSigner.KeyIdOf(publicKey);
        await ExecuteAsync(attacker,
            "INSERT INTO outpost_audit_keys (key_id, algorithm, public_key, private_key, nonce, endorsement, created_at) VALUES (@kid, @alg, @pub, @priv, @nonce, @mac, now() + interval '1 minute')",
            ("kid", keyId), ("alg", AuditSigner.Algorithm), ("pub", publicKey), ("priv", RandomNumberGenerator.GetBytes(80)),
            ("nonce", RandomNumberGenerator.GetBytes(12)), ("mac", RandomNumberGenerator.GetBytes(32)));
        return keyId;
    }

    /// <summary>Stores a checkpoint at <paramref name="size"/> with the true root, signed by the forged key; returns the compact range.</summary>
    private static async Task<IReadOnlyList<byte[]>> ForgeCheckpointAsync(NpgsqlDataSource attacker, string tenant, ECDsa key, string keyId, long size)
    {
        var tree = new MerkleTree();
        await foreach (var (_, leaf) in new AuditStore(attacker).ReadLeavesAsync(tenant, 0))
        {
            tree.Append(leaf);
        }

        var signedAt = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var root = tree.RootHash(size);
        var signature = key.SignData(AuditCheckpoint.FormatSignedText(tenant, size, root, signedAt), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        await new AuditStore(attacker).AddCheckpointAsync(new AuditCheckpoint(tenant, size, root, signedAt, keyId, signature));
        return tree.CompactRange(size);
    }

    private static async Task<int> ExecuteAsync(NpgsqlDataSource dataSource, string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = dataSource.CreateCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return await command.ExecuteNonQueryAsync();
    }

    private async Task<(int ExitCode, string Output)> RunCliAsync(params string[] command)
    {
        var output = new StringWriter();
        var exitCode = await Outpost.Admin.AdminCli.RunAsync(
            [.. command, $"--ConnectionStrings:Outpost={Cluster.ConnectionString}", $"--Security:MasterKeyFile={Cluster.MasterKeyFile}"],
            new StringReader(""),
            output,
            new StringWriter());
        return (exitCode, output.ToString());
    }
}
