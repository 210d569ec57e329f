using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Orleans.Configuration;
using Outpost.ServiceDefaults.Schema;
using Outpost.Testing.PostgreSql;
using Xunit;

namespace Outpost.ServiceDefaults.Tests.Schema;

/// <summary>
/// Runs the real Orleans ADO.NET providers against the schema the migrator creates, in a real silo.
/// The database's time zone is set away from UTC so that timestamps bound without a zone would show up as wrong.
/// </summary>
public sealed class OrleansProvidersTests(PostgreSqlFixture postgres) : IClassFixture<PostgreSqlFixture>, IAsyncLifetime
{
    private const string Invariant = "Npgsql";
    private const string ClusterId = "provider-test-cluster";
    private const string ServiceId = "provider-test-service";

    private readonly List<IHost> _hosts = [];
    private string _connectionString = string.Empty;

    public async Task InitializeAsync()
    {
        var database = "providers_" + Guid.NewGuid().ToString("N");
        _connectionString = await postgres.Server.CreateDatabaseAsync(database);
        await ExecuteAsync(postgres.Server.AdminConnectionString, $"ALTER DATABASE \"{database}\" SET timezone TO 'America/New_York'");
        await new SchemaMigrator(_connectionString, NullLogger<SchemaMigrator>.Instance).MigrateAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var host in Enumerable.Reverse(_hosts))
        {
            await host.StopAsync();
            host.Dispose();
        }
    }

    [Fact]
    public async Task AdoNetClustering_SiloStarts_RegistersActiveSiloAndServesClients()
    {
        var silo = await StartSiloAsync();
        var siloAddress = silo.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;

        var rows = await QueryAsync("SELECT address, port, generation, status FROM orleansmembershiptable WHERE deploymentid = @id",
            r => (Address: r.GetString(0), Port: r.GetInt32(1), Generation: r.GetInt32(2), Status: r.GetInt32(3)),
            ("id", ClusterId));
        var row = Assert.Single(rows);
        Assert.Equal((siloAddress.Endpoint.Address.ToString(), siloAddress.Endpoint.Port, siloAddress.Generation), (row.Address, row.Port, row.Generation));
        Assert.Equal((int)SiloStatus.Active, row.Status);

        var table = silo.Services.GetRequiredService<IMembershipTable>();
        var all = await table.ReadAllAsync();
        var (entry, _) = Assert.Single(all.Members);
        Assert.Equal(siloAddress, entry.SiloAddress);
        Assert.Equal(SiloStatus.Active, entry.Status);
        var one = await table.ReadRowAsync(siloAddress);
        Assert.Equal(siloAddress, Assert.Single(one.Members).Item1.SiloAddress);

        // A client finds the gateway through the gateways query and reaches a grain through it.
        var client = await StartClientAsync();
        var grain = client.Services.GetRequiredService<IClusterClient>().GetGrain<IStorageTestGrain>("via-gateway");
        await grain.SetValueAsync("through the gateway");
        Assert.Equal("through the gateway", await grain.GetValueAsync());
    }

    [Fact]
    public async Task AdoNetClustering_MembershipTableOperations_FollowVersionContract()
    {
        var silo = await StartSiloAsync();
        var table = silo.Services.GetRequiredService<IMembershipTable>();
        var siloAddress = silo.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;

        // IAmAlive round-trips exactly, whatever the session time zone.
        var (self, _) = Assert.Single((await table.ReadAllAsync()).Members);
        var aliveAt = new DateTime(2030, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc);
        self.IAmAliveTime = aliveAt;
        await table.UpdateIAmAliveAsync(self);
        var stored = await QueryAsync("SELECT iamalivetime FROM orleansmembershiptable WHERE deploymentid = @id AND port = @port",
            r => r.GetDateTime(0), ("id", ClusterId), ("port", siloAddress.Endpoint.Port));
        Assert.Equal(aliveAt, Assert.Single(stored).ToUniversalTime());
        Assert.Equal(aliveAt, (await table.ReadRowAsync(siloAddress)).Members.Single().Item1.IAmAliveTime);

        // Inserts need the current table version; a stale one changes nothing.
        var ghostTime = DateTime.UtcNow.AddDays(-2);
        var ghost = new MembershipEntry
        {
            SiloAddress = SiloAddress.New(IPAddress.Loopback, 1, 1),
            SiloName = "ghost",
            HostName = "ghost-host",
            Status = SiloStatus.Dead,
            ProxyPort = 0,
            StartTime = ghostTime,
            IAmAliveTime = ghostTime,
        };
        var version = (await table.ReadAllAsync()).Version;
        Assert.True(await table.InsertRowAsync(ghost, version.Next()));
        Assert.False(await table.InsertRowAsync(ghost, version.Next()));
        var afterInsert = await table.ReadAllAsync();
        Assert.Equal(version.Version + 1, afterInsert.Version.Version);
        Assert.Equal(2, afterInsert.Members.Count);

        // Orleans 10 gives every row the table's version as its etag and checks it before calling the database,
        // so a stale version reaches the update query only when the etag is equally stale.
        ghost.SuspectTimes = [Tuple.Create(siloAddress, ghostTime)];
        Assert.False(await table.UpdateRowAsync(ghost, version.VersionEtag, version.Next()));
        var ghostEtag = afterInsert.Members.Single(m => m.Item1.SiloAddress.Equals(ghost.SiloAddress)).Item2;
        Assert.True(await table.UpdateRowAsync(ghost, ghostEtag, afterInsert.Version.Next()));
        Assert.Equal(afterInsert.Version.Version + 1, (await table.ReadAllAsync()).Version.Version);
        var updatedGhost = (await table.ReadRowAsync(ghost.SiloAddress)).Members.Single().Item1;
        Assert.Equal(siloAddress, Assert.Single(updatedGhost.SuspectTimes!).Item1);

        // Defunct entries go; the active silo stays whatever its heartbeat says.
        await table.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddYears(10));
        var remaining = await table.ReadAllAsync();
        Assert.Equal(siloAddress, Assert.Single(remaining.Members).Item1.SiloAddress);

        // A graceful stop marks the silo dead; deleting the cluster's entries removes both tables' rows.
        await silo.StopAsync();
        var statuses = await QueryAsync("SELECT status FROM orleansmembershiptable WHERE deploymentid = @id",
            r => r.GetInt32(0), ("id", ClusterId));
        Assert.Equal([(int)SiloStatus.Dead], statuses);
        await table.DeleteMembershipTableEntriesAsync(ClusterId);
        var leftovers = await QueryAsync(
            "SELECT (SELECT count(*) FROM orleansmembershiptable) + (SELECT count(*) FROM orleansmembershipversiontable)",
            r => r.GetInt64(0));
        Assert.Equal([0L], leftovers);
    }

    [Fact]
    public async Task AdoNetGrainStorage_WriteDeactivateReadClear_StateLivesInPostgreSql()
    {
        var silo = await StartSiloAsync();
        var grain = silo.Services.GetRequiredService<IGrainFactory>().GetGrain<IStorageTestGrain>("keeper", typeof(StorageTestGrain).FullName);

        await grain.SetValueAsync("first");
        await grain.SetValueAsync("second");
        Assert.Equal([(2, true)], await ReadStorageRowsAsync(StorageTestGrain.StateName));

        var before = await grain.GetActivationIdAsync();
        await grain.DeactivateAsync();
        Assert.Equal("second", await grain.GetValueAsync());
        Assert.NotEqual(before, await grain.GetActivationIdAsync());

        await grain.ClearAsync();
        Assert.Equal([(3, false)], await ReadStorageRowsAsync(StorageTestGrain.StateName));
        await grain.DeactivateAsync();
        Assert.Null(await grain.GetValueAsync());

        // After a clear the row is kept, so the next write continues its version.
        await grain.SetValueAsync("third");
        Assert.Equal([(4, true)], await ReadStorageRowsAsync(StorageTestGrain.StateName));
    }

    [Fact]
    public async Task AdoNetGrainStorage_DeleteStateOnClear_RemovesRow()
    {
        var silo = await StartSiloAsync();
        var grain = silo.Services.GetRequiredService<IGrainFactory>().GetGrain<IStorageTestGrain>("deleter", typeof(DeletingStorageTestGrain).FullName);

        await grain.SetValueAsync("short-lived");
        Assert.Equal([(1, true)], await ReadStorageRowsAsync(DeletingStorageTestGrain.StateName));

        await grain.ClearAsync();
        Assert.Empty(await ReadStorageRowsAsync(DeletingStorageTestGrain.StateName));

        // With the row gone the grain starts again from a first write.
        await grain.SetValueAsync("again");
        await grain.DeactivateAsync();
        Assert.Equal("again", await grain.GetValueAsync());
        Assert.Equal([(1, true)], await ReadStorageRowsAsync(DeletingStorageTestGrain.StateName));
    }

    [Fact]
    public async Task AdoNetReminders_RegisterReadUnregister_RowsLiveInPostgreSql()
    {
        var silo = await StartSiloAsync();
        var grain = silo.Services.GetRequiredService<IGrainFactory>().GetGrain<IReminderTestGrain>("reminded");
        var grainId = grain.GetGrainId();

        Assert.Equal("tick", await grain.RegisterAsync("tick"));
        Assert.Equal("tick", await grain.GetAsync("tick"));
        Assert.Equal([(grainId.ToString(), "tick")], await ReadReminderRowsAsync());

        var table = silo.Services.GetRequiredService<IReminderTable>();
        Assert.Equal("tick", Assert.Single((await table.ReadRows(grainId)).Reminders).ReminderName);
        var hash = grainId.GetUniformHashCode();
        Assert.Empty((await table.ReadRows(hash, unchecked(hash + 1))).Reminders);
        Assert.Single((await table.ReadRows(unchecked(hash - 1), hash)).Reminders);
        Assert.Single((await table.ReadRows(unchecked(hash + 1), hash)).Reminders);

        await grain.UnregisterAsync("tick");
        Assert.Null(await grain.GetAsync("tick"));
        Assert.Empty(await ReadReminderRowsAsync());
    }

    [Fact]
    public async Task AdoNetReminders_TableOperations_FollowEtagContract()
    {
        var silo = await StartSiloAsync();
        var table = silo.Services.GetRequiredService<IReminderTable>();
        var grainId = GrainId.Create("reminder-table-test", "direct");
        var startAt = new DateTime(2031, 5, 6, 7, 8, 9, 123, DateTimeKind.Utc);
        var entry = new ReminderEntry { GrainId = grainId, ReminderName = "direct", StartAt = startAt, Period = TimeSpan.FromDays(40) };

        var firstEtag = await table.UpsertRow(entry);
        var secondEtag = await table.UpsertRow(entry);
        Assert.NotEqual(firstEtag, secondEtag);
        var read = await table.ReadRow(grainId, "direct");
        Assert.NotNull(read);
        Assert.Equal((startAt, TimeSpan.FromDays(40), secondEtag), (read.StartAt, read.Period, read.ETag));

        Assert.False(await table.RemoveRow(grainId, "direct", firstEtag!));
        Assert.NotNull(await table.ReadRow(grainId, "direct"));
        Assert.True(await table.RemoveRow(grainId, "direct", secondEtag!));
        Assert.Null(await table.ReadRow(grainId, "direct"));

        await table.UpsertRow(entry);
        await table.TestOnlyClearTable();
        Assert.Empty(await ReadReminderRowsAsync());
    }

    private async Task<IHost> StartSiloAsync()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = ClusterId;
                o.ServiceId = ServiceId;
            });
            silo.ConfigureEndpoints(IPAddress.Loopback, GetFreePort(), GetFreePort());
            silo.UseAdoNetClustering(o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = _connectionString;
            });
            silo.AddAdoNetGrainStorage(StorageTestGrain.StorageName, o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = _connectionString;
            });
            silo.AddAdoNetGrainStorage(DeletingStorageTestGrain.StorageName, o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = _connectionString;
                o.DeleteStateOnClear = true;
            });
            silo.UseAdoNetReminderService(o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = _connectionString;
            });
        });

        var host = builder.Build();
        _hosts.Add(host);
        await host.StartAsync();
        return host;
    }

    private async Task<IHost> StartClientAsync()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = ClusterId;
                o.ServiceId = ServiceId;
            });
            client.UseAdoNetClustering(o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = _connectionString;
            });
        });

        var host = builder.Build();
        _hosts.Add(host);
        await host.StartAsync();
        return host;
    }

    private Task<List<(int Version, bool HasPayload)>> ReadStorageRowsAsync(string stateName) =>
        QueryAsync(
            "SELECT version, payloadbinary IS NOT NULL FROM orleansstorage WHERE serviceid = @service AND graintypestring = @state",
            r => (r.GetInt32(0), r.GetBoolean(1)),
            ("service", ServiceId),
            ("state", stateName));

    private Task<List<(string GrainId, string Name)>> ReadReminderRowsAsync() =>
        QueryAsync(
            "SELECT grainid, remindername FROM orleansreminderstable WHERE serviceid = @service ORDER BY grainid, remindername",
            r => (r.GetString(0), r.GetString(1)),
            ("service", ServiceId));

    private async Task<List<T>> QueryAsync<T>(string sql, Func<NpgsqlDataReader, T> read, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync())
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static int GetFreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
