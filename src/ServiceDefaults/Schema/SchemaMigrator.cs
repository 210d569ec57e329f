using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Outpost.ServiceDefaults.Schema;

/// <summary>
/// Brings a PostgreSQL database up to the schema this build expects: the Orleans provider tables and their
/// stored queries, then Outpost's own. Safe to run from every silo at start: they take turns on an advisory lock.
/// </summary>
public sealed partial class SchemaMigrator(string connectionString, ILogger<SchemaMigrator> logger)
{
    private const string ResourcePrefix = "Outpost.Schema.";
    private const string ResourceSuffix = ".sql";

    // Any fixed number works as long as nothing else in the database uses it for a session lock.
    private const long LockKey = 0x4F7574706F737401;

    private const string CreateVersionTableSql = """
        CREATE TABLE IF NOT EXISTS outpost_schema_version
        (
            version    integer     PRIMARY KEY,
            name       text        NOT NULL,
            sha256     text        NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """;

    private static readonly Lazy<List<Migration>> EmbeddedMigrations = new(LoadMigrations);

    public async Task<SchemaMigrationResult> MigrateAsync(CancellationToken cancellationToken = default)
    {
        var migrations = EmbeddedMigrations.Value;

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);

        await AcquireLockAsync(connection, cancellationToken);
        try
        {
            // Only when missing: a role that may read the schema but not change it (the services' own) can then
            // confirm that it is up to date.
            if (!await VersionTableExistsAsync(connection, cancellationToken))
            {
                await ExecuteAsync(connection, null, CreateVersionTableSql, cancellationToken);
            }

            var recorded = await ReadRecordedAsync(connection, cancellationToken);

            // Check everything before changing anything: a mismatch means another build owns this database.
            foreach (var migration in migrations)
            {
                if (recorded.TryGetValue(migration.Version, out var row)
                    && !string.Equals(row.Sha256, migration.Sha256, StringComparison.OrdinalIgnoreCase))
                {
                    LogMismatch(logger, migration.Version, migration.Name, row.Sha256, migration.Sha256);
                    throw new SchemaMigrationException(migration.Version, migration.Name);
                }
            }

            var known = migrations.Select(m => m.Version).ToHashSet();
            foreach (var (version, row) in recorded.Where(r => !known.Contains(r.Key)).OrderBy(r => r.Key))
            {
                LogUnknown(logger, version, row.Name);
            }

            var applied = new List<string>();
            var alreadyApplied = new List<string>();
            foreach (var migration in migrations)
            {
                if (recorded.ContainsKey(migration.Version))
                {
                    alreadyApplied.Add(migration.Name);
                    continue;
                }

                await ApplyAsync(connection, migration, cancellationToken);
                applied.Add(migration.Name);
            }

            if (applied.Count == 0)
            {
                LogUpToDate(logger, alreadyApplied.Count);
            }

            return new SchemaMigrationResult(applied, alreadyApplied);
        }
        finally
        {
            await ReleaseLockAsync(connection);
        }
    }

    private static async Task<bool> VersionTableExistsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT to_regclass('outpost_schema_version') IS NOT NULL", connection);
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }

    private async Task AcquireLockAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var tryLock = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", connection);
        tryLock.Parameters.AddWithValue("key", LockKey);
        if (await tryLock.ExecuteScalarAsync(cancellationToken) is true)
        {
            return;
        }

        LogWaitingForLock(logger);
        await using var waitLock = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", connection);
        waitLock.Parameters.AddWithValue("key", LockKey);
        await waitLock.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task ReleaseLockAsync(NpgsqlConnection connection)
    {
        // A broken connection has lost its session, and the lock with it.
        if (connection.FullState != System.Data.ConnectionState.Open)
        {
            return;
        }

        try
        {
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
            unlock.Parameters.AddWithValue("key", LockKey);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (NpgsqlException)
        {
            // Must not hide the error that got us here; closing the connection resets the session, lock included.
        }
    }

    private async Task ApplyAsync(NpgsqlConnection connection, Migration migration, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        await ExecuteAsync(connection, transaction, migration.Sql, cancellationToken);

        await using (var record = new NpgsqlCommand(
            "INSERT INTO outpost_schema_version (version, name, sha256) VALUES (@version, @name, @sha256)",
            connection,
            transaction))
        {
            record.Parameters.AddWithValue("version", migration.Version);
            record.Parameters.AddWithValue("name", migration.Name);
            record.Parameters.AddWithValue("sha256", migration.Sha256);
            await record.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        LogApplied(logger, migration.Version, migration.Name, stopwatch.ElapsedMilliseconds);
    }

    private static async Task<Dictionary<int, (string Name, string Sha256)>> ReadRecordedAsync(
        NpgsqlConnection connection,
        CancellationToken cancellationToken)
    {
        var recorded = new Dictionary<int, (string Name, string Sha256)>();
        await using var command = new NpgsqlCommand("SELECT version, name, sha256 FROM outpost_schema_version", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            recorded[reader.GetInt32(0)] = (reader.GetString(1), reader.GetString(2));
        }

        return recorded;
    }

    private static async Task ExecuteAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction? transaction,
        string sql,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static List<Migration> LoadMigrations()
    {
        var assembly = typeof(SchemaMigrator).Assembly;
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(ResourcePrefix, StringComparison.Ordinal)
                || !resource.EndsWith(ResourceSuffix, StringComparison.Ordinal))
            {
                continue;
            }

            var name = resource[ResourcePrefix.Length..^ResourceSuffix.Length];
            var separator = name.IndexOf('_', StringComparison.Ordinal);
            if (separator <= 0
                || !int.TryParse(name.AsSpan(0, separator), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
            {
                throw new InvalidOperationException(
                    $"Embedded schema script '{resource}' is not named NNNN_name.sql.");
            }

            var sql = ReadResource(assembly, resource);
            migrations.Add(new Migration(version, name, sql, Hash(sql)));
        }

        migrations.Sort((left, right) => left.Version.CompareTo(right.Version));
        for (var i = 1; i < migrations.Count; i++)
        {
            if (migrations[i].Version == migrations[i - 1].Version)
            {
                throw new InvalidOperationException(
                    $"Schema scripts '{migrations[i - 1].Name}' and '{migrations[i].Name}' share version {migrations[i].Version}.");
            }
        }

        return migrations;
    }

    private static string ReadResource(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Embedded schema script '{resource}' could not be opened.");
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);

        // A checkout with CRLF line endings must not look like a different script.
        return reader.ReadToEnd().ReplaceLineEndings("\n");
    }

    private static string Hash(string sql) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sql)));

    private sealed record Migration(int Version, string Name, string Sql, string Sha256);
}
