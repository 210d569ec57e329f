using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Outpost.ServiceDefaults.Schema;
using Outpost.Testing.PostgreSql;
using Xunit;

namespace Outpost.ServiceDefaults.Tests.Schema;

public sealed class SchemaMigratorTests(PostgreSqlFixture postgres) : IClassFixture<PostgreSqlFixture>
{
    private static readonly string[] ExpectedMigrations =
    [
        "0001_orleans_clustering",
        "0002_orleans_persistence",
        "0003_orleans_reminders",
        "0004_outpost_identity",
        "0005_outpost_spend",
        "0006_outpost_audit",
        "0007_outpost_app_role",
        "0008_outpost_audit_intake",
        "0009_outpost_edge_role",
        "0010_outpost_audit_endorsement",
        "0011_outpost_login_throttle",
        "0012_outpost_tasks",
    ];

    private static readonly string[] ExpectedTables =
    [
        "orleansmembershiptable",
        "orleansmembershipversiontable",
        "orleansquery",
        "orleansreminderstable",
        "orleansstorage",
        "outpost_artifact_blobs",
        "outpost_artifact_chunks",
        "outpost_artifact_refs",
        "outpost_audit_checkpoints",
        "outpost_audit_events",
        "outpost_audit_intake",
        "outpost_audit_keys",
        "outpost_audit_legacy_keys",
        "outpost_audit_legacy_prunes",
        "outpost_audit_prunes",
        "outpost_audit_settings",
        "outpost_clients",
        "outpost_device_assignments",
        "outpost_device_codes",
        "outpost_login_throttle",
        "outpost_schema_version",
        "outpost_signing_keys",
        "outpost_spend_ledger",
        "outpost_task_keys",
        "outpost_task_log_chunks",
        "outpost_task_runs",
        "outpost_tenant_admins",
        "outpost_tenants",
    ];

    // Every key the Orleans 10.4.2 ADO.NET clustering, persistence and reminder providers look up.
    private static readonly string[] ExpectedQueryKeys =
    [
        "CleanupDefunctSiloEntriesKey",
        "ClearStorageKey",
        "DeleteMembershipTableEntriesKey",
        "DeleteReminderRowKey",
        "DeleteReminderRowsKey",
        "DeleteStorageKey",
        "GatewaysQueryKey",
        "InsertMembershipKey",
        "InsertMembershipVersionKey",
        "MembershipReadAllKey",
        "MembershipReadRowKey",
        "ReadFromStorageKey",
        "ReadRangeRows1Key",
        "ReadRangeRows2Key",
        "ReadReminderRowKey",
        "ReadReminderRowsKey",
        "UpdateIAmAlivetimeKey",
        "UpdateMembershipKey",
        "UpsertReminderRowKey",
        "WriteToStorageKey",
    ];

    [Fact]
    public async Task MigrateAsync_FreshDatabase_CreatesOrleansTablesAndQueries()
    {
        var connectionString = await postgres.Server.CreateDatabaseAsync();

        var result = await CreateMigrator(connectionString).MigrateAsync();

        Assert.Equal(ExpectedMigrations, result.Applied);
        Assert.Empty(result.AlreadyApplied);
        var tables = await QueryStringsAsync(connectionString,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name");
        Assert.Equal(ExpectedTables, tables);
        var keys = await QueryStringsAsync(connectionString, "SELECT querykey FROM orleansquery ORDER BY querykey");
        Assert.Equal(ExpectedQueryKeys.Order(StringComparer.Ordinal), keys.Order(StringComparer.Ordinal));
        var versions = await QueryStringsAsync(connectionString,
            "SELECT version::text || ':' || name FROM outpost_schema_version AS v ORDER BY v.version");
        Assert.Equal(ExpectedMigrations.Select(name => $"{int.Parse(name[..4], System.Globalization.CultureInfo.InvariantCulture)}:{name}"), versions);
    }

    [Fact]
    public async Task MigrateAsync_RunTwice_LeavesSameSchema()
    {
        var connectionString = await postgres.Server.CreateDatabaseAsync();
        await CreateMigrator(connectionString).MigrateAsync();
        var before = await DumpSchemaAsync(connectionString);

        var second = await CreateMigrator(connectionString).MigrateAsync();

        Assert.Empty(second.Applied);
        Assert.Equal(ExpectedMigrations, second.AlreadyApplied);
        Assert.Equal(before, await DumpSchemaAsync(connectionString));
    }

    [Fact]
    public async Task MigrationScripts_ExecutedAgainOverAppliedSchema_SucceedAndChangeNothing()
    {
        var connectionString = await postgres.Server.CreateDatabaseAsync();
        await CreateMigrator(connectionString).MigrateAsync();
        var before = await DumpSchemaAsync(connectionString);

        var assembly = typeof(SchemaMigrator).Assembly;
        var scripts = assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("Outpost.Schema.", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.Equal(ExpectedMigrations.Length, scripts.Count);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        foreach (var script in scripts)
        {
            await using var stream = assembly.GetManifestResourceStream(script)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            await using var command = new NpgsqlCommand(await reader.ReadToEndAsync(), connection);
            await command.ExecuteNonQueryAsync();
        }

        Assert.Equal(before, await DumpSchemaAsync(connectionString));
    }

    [Fact]
    public async Task MigrateAsync_TwoConcurrentMigrators_BothSucceed()
    {
        var connectionString = await postgres.Server.CreateDatabaseAsync();

        var results = await Task.WhenAll(
            Task.Run(() => CreateMigrator(connectionString).MigrateAsync()),
            Task.Run(() => CreateMigrator(connectionString).MigrateAsync()));

        // The advisory lock makes one do all the work while the other waits, then finds everything in place.
        Assert.Equal(ExpectedMigrations, results.SelectMany(r => r.Applied).Order(StringComparer.Ordinal));
        Assert.Equal(ExpectedMigrations, results.SelectMany(r => r.AlreadyApplied).Order(StringComparer.Ordinal));
        Assert.Contains(results, r => r.Applied.Count == ExpectedMigrations.Length);
        var versions = await QueryStringsAsync(connectionString,
            "SELECT version::text FROM outpost_schema_version AS v ORDER BY v.version");
        Assert.Equal(ExpectedMigrations.Select(name => int.Parse(name[..4], System.Globalization.CultureInfo.InvariantCulture).ToString(System.Globalization.CultureInfo.InvariantCulture)), versions);
    }

    [Fact]
    public async Task MigrateAsync_AppRole_GrantedOnEveryTableAndSequence()
    {
        var connectionString = await postgres.Server.CreateDatabaseAsync();
        await CreateMigrator(connectionString).MigrateAsync();

        // A table or sequence a later migration adds without granting it would fail only in production.
        var missing = await QueryStringsAsync(connectionString, """
            SELECT c.relname::text FROM pg_class c
            WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'S')
              AND NOT (has_table_privilege('outpost_app', c.oid, 'SELECT')
                       OR (c.relkind = 'S' AND has_sequence_privilege('outpost_app', c.oid, 'USAGE')))
            ORDER BY 1
            """);
        Assert.Empty(missing);
        var super = await QueryStringsAsync(connectionString,
            "SELECT (rolsuper OR rolcreaterole OR rolcreatedb OR rolcanlogin)::text FROM pg_roles WHERE rolname = 'outpost_app'");
        Assert.Equal(["false"], super);
    }

    [Fact]
    public async Task MigrateAsync_AsAMemberOfTheAppRole_ConfirmsUpToDateWithoutChangingAnything()
    {
        var connectionString = await postgres.Server.CreateDatabaseAsync();
        await CreateMigrator(connectionString).MigrateAsync();
        var before = await DumpSchemaAsync(connectionString);
        var role = "migrate_reader_" + Guid.NewGuid().ToString("N")[..8];
        await QueryStringsAsync(connectionString, $"CREATE ROLE {role} LOGIN IN ROLE outpost_app");

        // A silo started as the services' role migrates at start, too: once the owner has migrated, it must pass.
        var asService = new NpgsqlConnectionStringBuilder(connectionString) { Username = role }.ConnectionString;
        var result = await CreateMigrator(asService).MigrateAsync();

        Assert.Empty(result.Applied);
        Assert.Equal(ExpectedMigrations, result.AlreadyApplied);
        Assert.Equal(before, await DumpSchemaAsync(connectionString));
    }

    [Fact]
    public async Task MigrateAsync_ChangedMigration_Throws()
    {
        var connectionString = await postgres.Server.CreateDatabaseAsync();
        await CreateMigrator(connectionString).MigrateAsync();
        // Version 2 now looks as if a different script was applied, and version 3 as if it were still to come.
        await ExecuteAsync(connectionString, "UPDATE outpost_schema_version SET sha256 = repeat('0', 64) WHERE version = 2");
        await ExecuteAsync(connectionString, "DELETE FROM outpost_schema_version WHERE version = 3");
        await ExecuteAsync(connectionString, "DROP TABLE orleansreminderstable");

        var exception = await Assert.ThrowsAsync<SchemaMigrationException>(() => CreateMigrator(connectionString).MigrateAsync());

        Assert.Equal(2, exception.Version);
        Assert.Contains("0002", exception.Message, StringComparison.Ordinal);
        Assert.Contains("different build", exception.Message, StringComparison.Ordinal);
        var versions = await QueryStringsAsync(connectionString,
            "SELECT version::text FROM outpost_schema_version AS v ORDER BY v.version");
        Assert.Equal(["1", "2", "4", "5", "6", "7", "8", "9", "10", "11", "12"], versions);
        var reminders = await QueryStringsAsync(connectionString,
            "SELECT table_name FROM information_schema.tables WHERE table_name = 'orleansreminderstable'");
        Assert.Empty(reminders);
    }

    [Fact]
    public async Task MigrateAsync_UnreachableDatabase_ThrowsNpgsqlException()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
        }

        var connectionString = new NpgsqlConnectionStringBuilder
        {
            Host = IPAddress.Loopback.ToString(),
            Port = port,
            Database = "outpost",
            Username = "postgres",
            Timeout = 5,
        }.ConnectionString;

        await Assert.ThrowsAnyAsync<NpgsqlException>(() => CreateMigrator(connectionString).MigrateAsync());
    }

    private static SchemaMigrator CreateMigrator(string connectionString) =>
        new(connectionString, NullLogger<SchemaMigrator>.Instance);

    private static async Task<string> DumpSchemaAsync(string connectionString)
    {
        var dump = new StringBuilder();
        foreach (var (section, sql) in new[]
        {
            ("columns", """
                SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || coalesce(character_maximum_length::text, '-')
                       || ' ' || is_nullable || ' ' || coalesce(column_default, '-')
                  FROM information_schema.columns
                 WHERE table_schema = 'public'
                 ORDER BY table_name, column_name
                """),
            ("routines", """
                SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') ' || pg_get_functiondef(p.oid)
                  FROM pg_proc AS p
                  JOIN pg_namespace AS n ON n.oid = p.pronamespace
                 WHERE n.nspname = 'public'
                 ORDER BY 1
                """),
            ("indexes", "SELECT tablename || '.' || indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"),
            ("queries", "SELECT querykey || ' ' || querytext FROM orleansquery ORDER BY querykey"),
            ("versions", "SELECT version::text || ' ' || name || ' ' || sha256 || ' ' || applied_at::text FROM outpost_schema_version AS v ORDER BY v.version"),
        })
        {
            dump.Append("== ").AppendLine(section);
            foreach (var line in await QueryStringsAsync(connectionString, sql))
            {
                dump.AppendLine(line);
            }
        }

        return dump.ToString();
    }

    private static async Task<List<string>> QueryStringsAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
