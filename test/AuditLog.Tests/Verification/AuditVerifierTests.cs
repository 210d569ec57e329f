using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Outpost.AuditLog.Signing;
using Outpost.AuditLog.Storage;
using Outpost.AuditLog.Verification;
using Outpost.Grains.AuditLogs;
using Outpost.Testing.AuditLogs;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.AuditLog.Tests.Verification;

/// <summary>
/// Changes made straight in PostgreSQL, as a superuser who switches the append-only triggers off, and what
/// verification says about them.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class AuditVerifierTests(OutpostClusterFixture fixture)
{
    private AuditSigner Signer => fixture.Cluster.Control.Host.Services.GetRequiredService<AuditSigner>();

    private const string InsufficientPrivilege = "42501";

    private IClusterClient Client => fixture.Cluster.Client;

    [Fact]
    public async Task Verify_UntouchedLog_IsValid()
    {
        var (tenant, _, _) = await CreateLogAsync("verify-ok");

        var result = await VerifyAsync(tenant);

        Assert.True(result.Valid, result.FirstProblem?.Detail);
        Assert.Equal(12, result.EventsChecked);
        Assert.Equal(2, result.CheckpointsChecked);
        Assert.Equal(12, result.TreeSize);
    }

    [Fact]
    public async Task Verify_FieldEdited_NamesTheEvent()
    {
        var (tenant, events, _) = await CreateLogAsync("verify-edit");

        await TamperAsync("UPDATE outpost_audit_events SET cost_micros = 0, decision = 'allowed' WHERE tenant_id = @t AND seq = 7", tenant);

        var problem = AssertInvalid(await VerifyAsync(tenant));
        Assert.Equal((AuditProblemKind.ChangedEvent, 7L, events[7].RequestId), (problem.Kind, problem.Sequence, problem.RequestId));
    }

    [Fact]
    public async Task Verify_RowDeleted_NamesTheMissingEvent()
    {
        var (tenant, events, _) = await CreateLogAsync("verify-delete");

        await TamperAsync("DELETE FROM outpost_audit_events WHERE tenant_id = @t AND seq = 3", tenant);

        var problem = AssertInvalid(await VerifyAsync(tenant));
        Assert.Equal((AuditProblemKind.MissingEvent, 3L), (problem.Kind, problem.Sequence));
        Assert.Contains(events[4].RequestId, problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_TwoRowsSwapped_NamesTheFirstOfThem()
    {
        var (tenant, events, _) = await CreateLogAsync("verify-swap");

        await TamperAsync($"""
            CREATE TEMP TABLE swapped ON COMMIT DROP AS SELECT * FROM outpost_audit_events WHERE tenant_id = '{tenant}' AND seq IN (2, 9);
            DELETE FROM outpost_audit_events WHERE tenant_id = @t AND seq IN (2, 9);
            UPDATE swapped SET seq = CASE seq WHEN 2 THEN 9 ELSE 2 END;
            INSERT INTO outpost_audit_events SELECT * FROM swapped;
            """, tenant);

        var problem = AssertInvalid(await VerifyAsync(tenant));
        Assert.Equal((AuditProblemKind.ChangedEvent, 2L, events[9].RequestId), (problem.Kind, problem.Sequence, problem.RequestId));
    }

    [Fact]
    public async Task Verify_RowInsertedAfterTheLastEvent_NamesIt()
    {
        var (tenant, events, log) = await CreateLogAsync("verify-insert");
        var forged = AuditLeaf.Normalize(AuditSamples.Event(50));
        var leaf = AuditLeaf.Hash(tenant, events.Count, forged);

        await TamperAsync($"""
            INSERT INTO outpost_audit_events (tenant_id, seq, request_id, occurred_at, subject, client_id, source_address, action, scopes,
                decision, rule, reason, target, device, silo, model, cost_micros, status, outcome, request_sha256, response_sha256, leaf_hash)
            VALUES (@t, {events.Count}, '{forged.RequestId}', '{forged.Time.UtcDateTime:yyyy-MM-dd HH:mm:ss.ffffff}+00', '{forged.Subject}', '{forged.ClientId}', '{forged.SourceAddress}', '{forged.Action}',
                '{forged.Scopes}', 'allowed', '{forged.Rule}', '', '{forged.Target}', '{forged.Device}', '', '', {forged.CostMicros}, 200, 'ok',
                '\x{Convert.ToHexStringLower(forged.RequestSha256!)}', '\x{Convert.ToHexStringLower(forged.ResponseSha256!)}', '\x{Convert.ToHexStringLower(leaf)}')
            """, tenant);

        var problem = AssertInvalid(await VerifyAsync(tenant, log));
        Assert.Equal((AuditProblemKind.ForeignEvent, (long)events.Count, forged.RequestId), (problem.Kind, problem.Sequence, problem.RequestId));
    }

    [Fact]
    public async Task Verify_FieldEditedWithItsLeafHashRecomputed_NamesTheSegment_ThenTheEventFromTheGrainsRecord_AndTheGrainStopsSigning()
    {
        var (tenant, events, log) = await CreateLogAsync("verify-rehash");
        var edited = AuditLeaf.Normalize(events[2]) with { Subject = "someone-else" };
        var leaf = AuditLeaf.Hash(tenant, 2, edited);

        await TamperAsync(
            $"UPDATE outpost_audit_events SET subject = 'someone-else', leaf_hash = '\\x{Convert.ToHexStringLower(leaf)}' WHERE tenant_id = @t AND seq = 2",
            tenant);

        // From the database alone, the signed segment that holds it; with the grain's record of what it wrote, the event.
        var problem = AssertInvalid(await VerifyAsync(tenant));
        Assert.Equal((AuditProblemKind.RootMismatch, 0L, 5L), (problem.Kind, problem.Sequence, problem.CheckpointSize));
        Assert.Contains("Events 0 to 4", problem.Detail, StringComparison.Ordinal);
        await using (var dataSource = NpgsqlDataSource.Create(fixture.Cluster.ConnectionString))
        {
            var located = AssertInvalid(await new AuditVerifier(dataSource, Signer).VerifyAsync(
                tenant, () => log.CountAsync(), from => log.GetLeafHashesAsync(from, 1000)));
            Assert.Equal((AuditProblemKind.ChangedEvent, 2L, events[2].RequestId), (located.Kind, located.Sequence, located.RequestId));
        }

        // Reloaded from the changed rows, the grain notices and will not vouch for them with a new checkpoint.
        await Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        await log.AppendAsync(AuditSamples.Event(70));
        await Assert.ThrowsAsync<AuditIntegrityException>(() => log.SignCheckpointAsync());
    }

    [Fact]
    public async Task Verify_CheckpointRewritten_ReportsItsSignature()
    {
        var (tenant, _, _) = await CreateLogAsync("verify-checkpoint");

        await TamperAsync(
            "UPDATE outpost_audit_checkpoints SET root_hash = sha256(root_hash) WHERE tenant_id = @t AND tree_size = 5",
            tenant,
            "outpost_audit_checkpoints");

        var problem = AssertInvalid(await VerifyAsync(tenant));
        Assert.Equal((AuditProblemKind.BadSignature, 5L), (problem.Kind, problem.CheckpointSize));
    }

    // What the services' role may not do, and which layer refuses it: its privileges, or (DELETE, granted for
    // retention) the trigger that lets only pruned rows go.
    [Theory]
    [InlineData("UPDATE outpost_audit_events SET subject = 'x' WHERE tenant_id = @t", "permission denied")]
    [InlineData("DELETE FROM outpost_audit_events WHERE tenant_id = @t AND seq = 0", "append-only")]
    [InlineData("TRUNCATE outpost_audit_events", "permission denied")]
    [InlineData("UPDATE outpost_audit_checkpoints SET signed_at = now() WHERE tenant_id = @t", "permission denied")]
    [InlineData("DELETE FROM outpost_audit_checkpoints WHERE tenant_id = @t", "append-only")]
    [InlineData("TRUNCATE outpost_audit_checkpoints", "permission denied")]
    [InlineData("DELETE FROM outpost_audit_prunes WHERE tenant_id = @t", "permission denied")]
    [InlineData("UPDATE outpost_audit_keys SET public_key = public_key WHERE @t <> ''", "permission denied")]
    [InlineData("UPDATE outpost_spend_ledger SET cost_micros = 0 WHERE tenant_id = @t", "permission denied")]
    [InlineData("DELETE FROM outpost_spend_ledger WHERE tenant_id = @t", "permission denied")]
    public async Task Change_ThroughTheServicesRole_IsRefused(string sql, string refusal)
    {
        var (tenant, _, _) = await CreateLogAsync("append-only");

        var error = await ExecuteRefusedAsync(fixture.Cluster.ServiceConnectionString, sql, tenant);

        Assert.Equal(InsufficientPrivilege, error.SqlState);
        Assert.Contains(refusal, error.MessageText, StringComparison.Ordinal);
        Assert.True((await VerifyAsync(tenant)).Valid);
    }

    // The owner holds every privilege; the triggers (enabled ALWAYS) still refuse.
    [Theory]
    [InlineData("UPDATE outpost_audit_events SET subject = 'x' WHERE tenant_id = @t")]
    [InlineData("DELETE FROM outpost_audit_events WHERE tenant_id = @t AND seq = 0")]
    [InlineData("TRUNCATE outpost_audit_events")]
    [InlineData("UPDATE outpost_audit_checkpoints SET signed_at = now() WHERE tenant_id = @t")]
    [InlineData("DELETE FROM outpost_audit_checkpoints WHERE tenant_id = @t")]
    public async Task Change_AsTheTablesOwner_IsRefusedByTheTriggers(string sql)
    {
        var (tenant, _, _) = await CreateLogAsync("append-only");

        var error = await ExecuteRefusedAsync(fixture.Cluster.ConnectionString, sql, tenant);

        Assert.Equal(InsufficientPrivilege, error.SqlState);
        Assert.Contains("append-only", error.MessageText, StringComparison.Ordinal);
        Assert.True((await VerifyAsync(tenant)).Valid);
    }

    [Fact]
    public async Task RotateKey_NextCheckpointSignedByTheNewKey_AndEveryCheckpointStillVerifies()
    {
        var (tenant, events, log) = await CreateLogAsync("rotate");
        var before = (await log.GetLatestCheckpointAsync())!;
        var signer = fixture.Cluster.Control.Host.Services.GetRequiredService<AuditSigner>();

        var rotated = await signer.RotateAsync();
        await log.AppendBatchAsync([AuditSamples.Event(99)]);
        var after = await log.SignCheckpointAsync();

        Assert.NotEqual(before.KeyId, rotated);
        Assert.Equal(rotated, after.KeyId);
        var result = await VerifyAsync(tenant, log);
        Assert.True(result.Valid, result.FirstProblem?.Detail);
        Assert.Equal((events.Count + 1L, 3), (result.TreeSize, result.CheckpointsChecked));
        await using var dataSource = NpgsqlDataSource.Create(fixture.Cluster.ConnectionString);
        var keys = await Signer.ListAsync();
        Assert.Equal(rotated, Assert.Single(keys, key => key.Signing).KeyId);
        Assert.Contains(keys, key => key.KeyId == before.KeyId && !key.Signing);
    }

    [Fact]
    public async Task ClusterProcesses_ConnectAsTheServicesRole_NeitherSuperuserNorOwner()
    {
        foreach (var services in new[] { fixture.Cluster.Control.Host.Services, fixture.Cluster.Gateway.Services })
        {
            await using var command = services.GetRequiredService<NpgsqlDataSource>().CreateCommand("""
                SELECT current_user::text, r.rolsuper, r.rolcreaterole, pg_has_role(current_user, 'outpost_app', 'USAGE'),
                       EXISTS (SELECT 1 FROM pg_tables WHERE tableowner = current_user)
                FROM pg_roles r WHERE r.rolname = current_user
                """);
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal(
                (OutpostCluster.ServiceRole, false, false, true, false),
                (reader.GetString(0), reader.GetBoolean(1), reader.GetBoolean(2), reader.GetBoolean(3), reader.GetBoolean(4)));
        }
    }

    private static async Task<PostgresException> ExecuteRefusedAsync(string connectionString, string sql, string tenant)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("t", tenant);
        return await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
    }

    [Fact]
    public async Task PruneExpired_RemovesOnlyWholeExpiredSegments_AndWhatRemainsStillVerifies()
    {
        var tenant = AuditSamples.NewTenant("retention");
        var log = Client.GetGrain<IAuditLogGrain>(tenant);
        var old = DateTimeOffset.UtcNow.AddDays(-10);
        var events = Enumerable.Range(0, 6).Select(i => AuditSamples.Event(i, old.AddMinutes(i))).ToList();
        events.AddRange(Enumerable.Range(6, 3).Select(i => AuditSamples.Event(i, DateTimeOffset.UtcNow.AddDays(-2))));
        events.AddRange(Enumerable.Range(9, 4).Select(i => AuditSamples.Event(i)));
        await log.AppendBatchAsync(events[..4]);
        await log.SignCheckpointAsync();
        await log.AppendBatchAsync(events[4..8]);
        await log.SignCheckpointAsync();
        await log.AppendBatchAsync(events[8..]);
        await log.SignCheckpointAsync();
        await using var dataSource = NpgsqlDataSource.Create(fixture.Cluster.ConnectionString);
        await new AuditStore(dataSource).SetSettingsAsync(tenant, new AuditSettings(RetentionDays: 5, StoreBodies: false));

        var pruned = await log.PruneExpiredAsync();

        // Events 0-5 expired, but the segment ending at 8 holds unexpired ones: only the first signed segment goes.
        Assert.Equal(4, pruned);
        Assert.Equal(4, await log.PruneExpiredAsync());
        var result = await VerifyAsync(tenant);
        Assert.True(result.Valid, result.FirstProblem?.Detail);
        Assert.Equal((4L, 9L, 13L), (result.PrunedSize, result.EventsChecked, result.TreeSize));
        Assert.Equal(4, (await log.ReadAsync(0, 4))[0].Sequence);
        var latest = (await log.GetLatestCheckpointAsync())!;
        var proof = await log.GetInclusionProofAsync(5, latest.TreeSize);
        Assert.True(Rfc9162Verifier.VerifyInclusion(AuditLeaf.Hash(tenant, 5, AuditLeaf.Normalize(events[5])), 5, 13, proof.Path, latest.RootHash));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => log.GetInclusionProofAsync(3, latest.TreeSize));

        // Rows a prune did not release stay protected.
        await using var command = dataSource.CreateCommand("DELETE FROM outpost_audit_events WHERE tenant_id = @t AND seq = 4");
        command.Parameters.AddWithValue("t", tenant);
        Assert.Equal(InsufficientPrivilege, (await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync())).SqlState);

        // And the pruned log survives a reload.
        await Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        Assert.Equal(13, await log.CountAsync());
        Assert.Equal(latest.TreeSize, (await log.SignCheckpointAsync()).TreeSize);
    }

    private static AuditProblem AssertInvalid(AuditVerification result)
    {
        Assert.False(result.Valid);
        return Assert.IsType<AuditProblem>(result.FirstProblem);
    }

    /// <summary>Twelve events with checkpoints at 5 and 12.</summary>
    private async Task<(string Tenant, List<AuditEvent> Events, IAuditLogGrain Log)> CreateLogAsync(string name)
    {
        var tenant = AuditSamples.NewTenant(name);
        var log = Client.GetGrain<IAuditLogGrain>(tenant);
        var events = Enumerable.Range(0, 12).Select(i => AuditSamples.Event(i)).ToList();
        await log.AppendBatchAsync(events[..5]);
        await log.SignCheckpointAsync();
        await log.AppendBatchAsync(events[5..]);
        await log.SignCheckpointAsync();
        return (tenant, events, log);
    }

    private async Task<AuditVerification> VerifyAsync(string tenant, IAuditLogGrain? log = null)
    {
        await using var dataSource = NpgsqlDataSource.Create(fixture.Cluster.ConnectionString);
        return await new AuditVerifier(dataSource, Signer).VerifyAsync(tenant, log is null ? null : () => log.CountAsync());
    }

    private Task TamperAsync(string sql, string tenant, string table = "outpost_audit_events") =>
        AuditTampering.AsSuperuserAsync(fixture.Cluster.ConnectionString, sql, tenant, table);
}
