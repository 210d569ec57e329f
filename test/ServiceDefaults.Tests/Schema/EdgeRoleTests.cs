using Npgsql;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.ServiceDefaults.Tests.Schema;

/// <summary>
/// What an edge silo's database login may do (migration 0009). The cluster's edge silos already run as this role, so
/// every test here sees a database an edge silo has been working in.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class EdgeRoleTests(OutpostClusterFixture fixture)
{
    private const string PermissionDenied = "42501";

    private OutpostCluster Cluster => fixture.Cluster;

    public static TheoryData<string> ControlPlaneTables =>
    [
        "outpost_tenants", "outpost_clients", "outpost_tenant_admins", "outpost_signing_keys", "outpost_device_codes",
        "outpost_device_assignments", "outpost_audit_settings", "outpost_audit_events", "outpost_audit_checkpoints",
        "outpost_audit_keys", "outpost_audit_prunes", "outpost_audit_intake", "outpost_audit_legacy_keys",
        "outpost_audit_legacy_prunes", "outpost_spend_ledger", "outpost_login_throttle", "outpost_artifact_blobs",
        "outpost_artifact_chunks", "outpost_artifact_refs", "outpost_task_keys", "outpost_task_runs",
        "outpost_task_log_chunks",
    ];

    [Theory]
    [MemberData(nameof(ControlPlaneTables))]
    public async Task EdgeRole_ControlPlaneTable_CannotReadInsertUpdateOrDelete(string table)
    {
        foreach (var sql in new[]
                 {
                     $"SELECT * FROM {table} LIMIT 1",
                     $"INSERT INTO {table} DEFAULT VALUES",
                     $"UPDATE {table} SET {await FirstColumnAsync(table)} = {await FirstColumnAsync(table)}",
                     $"DELETE FROM {table}",
                 })
        {
            var error = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(Cluster.EdgeConnectionString, sql));
            Assert.True(error.SqlState == PermissionDenied, $"{sql}: {error.SqlState} {error.MessageText}");
        }
    }

    [Fact]
    public async Task EdgeRole_GrainState_SeesOnlyDeviceStateWhileTheServiceRoleSeesAll()
    {
        const string count = "SELECT count(*) FROM orleansstorage WHERE graintypestring <> 'device'";

        var ownerSees = await ScalarAsync(Cluster.ConnectionString, count);
        var edgeSees = await ScalarAsync(Cluster.EdgeConnectionString, count);
        var serviceSees = await ScalarAsync(Cluster.ServiceConnectionString, count);
        var edgeDevices = await ScalarAsync(Cluster.EdgeConnectionString, "SELECT count(*) FROM orleansstorage WHERE graintypestring = 'device'");

        Assert.True(ownerSees > 0, "the control plane has stored no state yet; the test proves nothing");
        Assert.Equal(0, edgeSees);
        Assert.Equal(ownerSees, serviceSees);
        Assert.True(edgeDevices >= Cluster.Settings.EdgeDevices.Count, $"the edge silos stored {edgeDevices} device states");
    }

    [Fact]
    public async Task EdgeRole_WriteOfControlPlaneState_IsRefusedByRowLevelSecurity()
    {
        var insert = """
            INSERT INTO orleansstorage (grainidhash, grainidn0, grainidn1, graintypehash, graintypestring, serviceid, payloadbinary, version)
            VALUES (1, 0, 0, 1, 'quota', 'forged', '\x00', 1)
            """;
        var function = "SELECT outpost_storage_write(2, 0, 0, 2, 'audit', 'acme', 'forged', NULL, '\\x00'::bytea)";

        var direct = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(Cluster.EdgeConnectionString, insert));
        var throughProvider = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(Cluster.EdgeConnectionString, function));
        var updated = await ExecuteAsync(Cluster.EdgeConnectionString, "UPDATE orleansstorage SET payloadbinary = NULL WHERE graintypestring <> 'device'");

        Assert.Equal(PermissionDenied, direct.SqlState);
        Assert.Equal(PermissionDenied, throughProvider.SqlState);
        Assert.Equal(0, updated);
        Assert.Equal(0, await ScalarAsync(Cluster.ConnectionString, "SELECT count(*) FROM orleansstorage WHERE serviceid = 'forged'"));
    }

    [Fact]
    public async Task EdgeRole_Membership_IsReadable()
    {
        var members = await ScalarAsync(Cluster.EdgeConnectionString, "SELECT count(*) FROM orleansmembershiptable");

        Assert.True(members >= 1 + Cluster.Settings.EdgeDevices.Count);
    }

    private async Task<string> FirstColumnAsync(string table) =>
        (string)(await ScalarObjectAsync(Cluster.ConnectionString,
            $"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}' ORDER BY ordinal_position LIMIT 1"))!;

    private static async Task<int> ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteNonQueryAsync();
    }

    private static async Task<long> ScalarAsync(string connectionString, string sql) =>
        Convert.ToInt64(await ScalarObjectAsync(connectionString, sql), System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<object?> ScalarObjectAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }
}
