using Outpost.AuditLog.Signing;
using Microsoft.Extensions.DependencyInjection;
using Outpost.Testing.AuditLogs;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Outpost.AuditLog.Storage;
using Outpost.AuditLog.Verification;
using Outpost.Grains.AuditLogs;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.AuditLog.Tests.Storage;

/// <summary>
/// The audit intake: events a gateway staged (durable, not yet logged) reach their log exactly once, however the
/// hand-over went, and nobody can make a staged event vanish before it is logged.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class AuditIntakeTests(OutpostClusterFixture fixture)
{
    private AuditSigner Signer => fixture.Cluster.Control.Host.Services.GetRequiredService<AuditSigner>();

    private const string InsufficientPrivilege = "42501";

    private IClusterClient Client => fixture.Cluster.Client;

    [Fact]
    public async Task IngestStaged_EventsStagedButNeverHandedOver_AreLoggedOnceInStagedOrder_AndLeaveTheIntake()
    {
        var tenant = AuditSamples.NewTenant("intake");
        var events = Enumerable.Range(0, 3).Select(i => AuditLeaf.Normalize(AuditSamples.Event(i))).ToList();
        await using var dataSource = NpgsqlDataSource.Create(fixture.Cluster.ServiceConnectionString);
        var intake = new AuditIntake(dataSource);
        foreach (var auditEvent in events)
        {
            // One statement each, so that their staging times order them.
            await intake.StageAsync([(tenant, auditEvent)]);
        }

        Assert.Equal(3, await intake.CountAsync(tenant));

        // Verification from the database alone says what it could not check yet.
        var before = await new AuditVerifier(dataSource, Signer).VerifyAsync(tenant, logSize: null);
        Assert.Equal((true, 0L, 3L), (before.Valid, before.EventsChecked, before.StagedEvents));

        var log = Client.GetGrain<IAuditLogGrain>(tenant);
        await log.IngestStagedAsync();
        await log.IngestStagedAsync();

        Assert.Equal(3, await log.CountAsync());
        Assert.Equal(events.Select(e => e.RequestId), (await log.ReadAsync(0, 10)).Select(e => e.Event.RequestId));
        Assert.Equal(0, await intake.CountAsync(tenant));
        var after = await new AuditVerifier(dataSource, Signer).VerifyAsync(tenant, () => log.CountAsync());
        Assert.Equal((true, 3L, 0L), (after.Valid, after.EventsChecked, after.StagedEvents));
    }

    [Fact]
    public async Task AppendStaged_EventAlreadyLoggedThenStagedAgain_IsNotLoggedTwice_AndItsRowLeavesTheIntake()
    {
        var tenant = AuditSamples.NewTenant("intake-again");
        var auditEvent = AuditLeaf.Normalize(AuditSamples.Event(1));
        var log = Client.GetGrain<IAuditLogGrain>(tenant);
        await log.AppendBatchAsync([auditEvent]);
        await using var dataSource = NpgsqlDataSource.Create(fixture.Cluster.ServiceConnectionString);
        var intake = new AuditIntake(dataSource);

        // A gateway's retry staged it after the log had taken it.
        await intake.StageAsync([(tenant, auditEvent)]);
        await log.AppendStagedAsync([auditEvent]);
        await log.IngestStagedAsync();

        Assert.Equal(1, await log.CountAsync());
        Assert.Equal(0, await intake.CountAsync(tenant));
    }

    [Fact]
    public async Task Sweep_OverdueStagedEventsOfSeveralTenants_AreLoggedByTheirLogs()
    {
        var tenants = new[] { AuditSamples.NewTenant("sweep-a"), AuditSamples.NewTenant("sweep-b") };
        await using var dataSource = NpgsqlDataSource.Create(fixture.Cluster.ServiceConnectionString);
        var intake = new AuditIntake(dataSource);
        await intake.StageAsync([
            (tenants[0], AuditLeaf.Normalize(AuditSamples.Event(0))),
            (tenants[0], AuditLeaf.Normalize(AuditSamples.Event(1))),
            (tenants[1], AuditLeaf.Normalize(AuditSamples.Event(2))),
        ]);
        var sweeper = new AuditIntakeSweeper(
            Client, intake, Options.Create(new AuditLogOptions { IntakeGrace = TimeSpan.Zero }), TimeProvider.System, NullLogger<AuditIntakeSweeper>.Instance);

        await sweeper.SweepAsync(CancellationToken.None);

        Assert.Equal(2, await Client.GetGrain<IAuditLogGrain>(tenants[0]).CountAsync());
        Assert.Equal(1, await Client.GetGrain<IAuditLogGrain>(tenants[1]).CountAsync());
        Assert.Equal(0, await intake.CountAsync(tenants[0]) + await intake.CountAsync(tenants[1]));
    }

    [Fact]
    public async Task Activation_LogsWhatWasStagedForTheTenant_WithoutBeingAsked()
    {
        var tenant = AuditSamples.NewTenant("intake-activate");
        await using var dataSource = NpgsqlDataSource.Create(fixture.Cluster.ServiceConnectionString);
        var intake = new AuditIntake(dataSource);
        await intake.StageAsync([(tenant, AuditLeaf.Normalize(AuditSamples.Event(0)))]);
        var log = Client.GetGrain<IAuditLogGrain>(tenant);

        // Any call activates the grain; this one reads without logging anything itself.
        Assert.Null(await log.GetLatestCheckpointAsync());
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await log.CountAsync() == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal(1, await log.CountAsync());
        Assert.Equal(0, await intake.CountAsync(tenant));
    }

    [Fact]
    public async Task Stage_NormalizedEventWithNulAndBodies_RoundTripsToTheSameLeafAndBodies()
    {
        var tenant = AuditSamples.NewTenant("intake-json");
        var auditEvent = AuditLeaf.Normalize(AuditSamples.Event(4) with
        {
            Subject = "nul\0here",
            Target = null,
            RequestBody = [1, 2, 3],
            ResponseBody = [],
            Time = new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.FromHours(2)).AddTicks(1234567),
        });
        await using var dataSource = NpgsqlDataSource.Create(fixture.Cluster.ServiceConnectionString);
        var intake = new AuditIntake(dataSource);

        await intake.StageAsync([(tenant, auditEvent)]);
        var staged = Assert.Single(await intake.ReadAsync(tenant, 10));

        Assert.Equal("nul\uFFFDhere", staged.Subject);
        Assert.Equal(AuditLeaf.Encode(tenant, 0, auditEvent), AuditLeaf.Encode(tenant, 0, staged));
        Assert.Equal(auditEvent.RequestBody, staged.RequestBody);
        Assert.Equal(auditEvent.ResponseBody, staged.ResponseBody);
        Assert.Equal(auditEvent.Time, staged.Time);
        await Client.GetGrain<IAuditLogGrain>(tenant).IngestStagedAsync();
    }

    // The services' role may add to the intake and remove what is logged, nothing else.
    [Theory]
    [InlineData("UPDATE outpost_audit_intake SET event = ''::bytea WHERE tenant_id = @t", "permission denied")]
    [InlineData("DELETE FROM outpost_audit_intake WHERE tenant_id = @t", "not logged yet")]
    [InlineData("TRUNCATE outpost_audit_intake", "permission denied")]
    public async Task Change_ThroughTheServicesRole_BeforeTheEventIsLogged_IsRefused(string sql, string refusal)
    {
        await RefusedWhileStagedAsync(fixture.Cluster.ServiceConnectionString, sql, refusal);
    }

    // The owner holds every privilege; the triggers (enabled ALWAYS) still refuse.
    [Theory]
    [InlineData("UPDATE outpost_audit_intake SET event = ''::bytea WHERE tenant_id = @t", "append-only")]
    [InlineData("DELETE FROM outpost_audit_intake WHERE tenant_id = @t", "not logged yet")]
    [InlineData("TRUNCATE outpost_audit_intake", "append-only")]
    public async Task Change_AsTheTablesOwner_BeforeTheEventIsLogged_IsRefusedByTheTriggers(string sql, string refusal)
    {
        await RefusedWhileStagedAsync(fixture.Cluster.ConnectionString, sql, refusal);
    }

    private async Task RefusedWhileStagedAsync(string connectionString, string sql, string refusal)
    {
        var tenant = AuditSamples.NewTenant("intake-guard");
        await using var dataSource = NpgsqlDataSource.Create(fixture.Cluster.ServiceConnectionString);
        var intake = new AuditIntake(dataSource);
        await intake.StageAsync([(tenant, AuditLeaf.Normalize(AuditSamples.Event(0)))]);

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("t", tenant);
        var error = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());

        Assert.Equal(InsufficientPrivilege, error.SqlState);
        Assert.Contains(refusal, error.MessageText, StringComparison.Ordinal);
        Assert.Equal(1, await intake.CountAsync(tenant));

        // Once logged, it leaves the intake: the refusal was about the event being staged.
        await Client.GetGrain<IAuditLogGrain>(tenant).IngestStagedAsync();
        Assert.Equal(0, await intake.CountAsync(tenant));
    }
}
