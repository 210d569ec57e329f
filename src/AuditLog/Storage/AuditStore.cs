using System.Runtime.CompilerServices;
using Npgsql;
using NpgsqlTypes;
using Outpost.AuditLog.Merkle;
using Outpost.Grains.AuditLogs;

namespace Outpost.AuditLog.Storage;

/// <summary>
/// The audit tables in PostgreSQL (<c>outpost_audit_*</c>, migration 0006). Events go in by binary COPY, one batch per
/// statement, so a batch is durable as a whole or not at all. Nothing here updates a row; deletes happen only in
/// <see cref="PruneAsync"/>, which the tables' triggers allow only below a recorded prune.
/// </summary>
public sealed class AuditStore(NpgsqlDataSource dataSource)
{
    private const string EventColumns =
        "seq, request_id, occurred_at, subject, client_id, source_address, action, scopes, decision, rule, reason, target, device, silo, model, "
        + "cost_micros, status, outcome, request_sha256, response_sha256, request_body, response_body, leaf_hash";

    /// <summary>
    /// Writes a batch of normalized events at their positions, with their leaf hashes, in one statement. The request
    /// ids in <paramref name="staged"/> are removed from the intake in the same transaction: once logged, never
    /// staged too, and never staged and lost.
    /// </summary>
    public async Task AppendAsync(
        string tenant, IReadOnlyList<AuditEntry> entries, IReadOnlyCollection<string>? staged = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entries);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (staged is not { Count: > 0 })
        {
            await CopyAsync(connection, tenant, entries, cancellationToken);
            return;
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await CopyAsync(connection, tenant, entries, cancellationToken);
        await UnstageAsync(connection, tenant, staged, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Which of <paramref name="requestIds"/> the tenant's log already holds, with their positions; removes those from
    /// the intake, where a retry may have staged them again.
    /// </summary>
    public async Task<Dictionary<string, long>> FindLoggedAsync(
        string tenant, IReadOnlyCollection<string> requestIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requestIds);
        var ids = requestIds.ToArray();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var logged = new Dictionary<string, long>(StringComparer.Ordinal);
        await using (var find = new NpgsqlCommand(
            "SELECT request_id, seq FROM outpost_audit_events WHERE tenant_id = $1 AND request_id = ANY($2)", connection))
        {
            find.Parameters.Add(new NpgsqlParameter { Value = tenant });
            find.Parameters.Add(new NpgsqlParameter { Value = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            await using var reader = await find.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                logged[reader.GetString(0)] = reader.GetInt64(1);
            }
        }

        if (logged.Count > 0)
        {
            await UnstageAsync(connection, tenant, logged.Keys, cancellationToken);
        }

        return logged;
    }

    // Removes logged events from the intake; its trigger undoes the statement if any of them is not logged.
    private static async Task UnstageAsync(
        NpgsqlConnection connection, string tenant, IEnumerable<string> requestIds, CancellationToken cancellationToken)
    {
        await using var unstage = new NpgsqlCommand("DELETE FROM outpost_audit_intake WHERE tenant_id = $1 AND request_id = ANY($2)", connection);
        unstage.Parameters.Add(new NpgsqlParameter { Value = tenant });
        unstage.Parameters.Add(new NpgsqlParameter { Value = requestIds.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        await unstage.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task CopyAsync(NpgsqlConnection connection, string tenant, IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken)
    {
        await using var importer = await connection.BeginBinaryImportAsync(
            $"COPY outpost_audit_events (tenant_id, {EventColumns}) FROM STDIN (FORMAT BINARY)", cancellationToken);
        foreach (var entry in entries)
        {
            var e = entry.Event;
            await importer.StartRowAsync(cancellationToken);
            await importer.WriteAsync(tenant, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(entry.Sequence, NpgsqlDbType.Bigint, cancellationToken);
            await importer.WriteAsync(e.RequestId, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(e.Time.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
            await importer.WriteAsync(e.Subject, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(e.ClientId, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(e.SourceAddress, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(e.Action, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(e.Scopes, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(e.Decision, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(e.Rule, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(e.Reason, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(e.Target ?? "", NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(e.Device, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(e.Silo, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(e.Model, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(e.CostMicros, NpgsqlDbType.Bigint, cancellationToken);
            await importer.WriteAsync(e.Status, NpgsqlDbType.Integer, cancellationToken);
            await importer.WriteAsync(e.Outcome, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(e.RequestSha256!, NpgsqlDbType.Bytea, cancellationToken);
            await importer.WriteAsync(e.ResponseSha256!, NpgsqlDbType.Bytea, cancellationToken);
            await WriteNullableAsync(importer, e.RequestBody, cancellationToken);
            await WriteNullableAsync(importer, e.ResponseBody, cancellationToken);
            await importer.WriteAsync(entry.LeafHash!, NpgsqlDbType.Bytea, cancellationToken);
        }

        await importer.CompleteAsync(cancellationToken);
    }

    /// <summary>The stored positions and leaf hashes from <paramref name="fromSequence"/> on, in order.</summary>
    public async IAsyncEnumerable<(long Sequence, byte[] LeafHash)> ReadLeavesAsync(
        string tenant, long fromSequence, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT seq, leaf_hash FROM outpost_audit_events WHERE tenant_id = @tenant AND seq >= @from ORDER BY seq");
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("from", fromSequence);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return (reader.GetInt64(0), (byte[])reader[1]);
        }
    }

    /// <summary>Every stored event of the tenant from <paramref name="fromSequence"/> on, in order, with bodies.</summary>
    public async IAsyncEnumerable<AuditEntry> ReadEventsAsync(
        string tenant, long fromSequence, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            $"SELECT {EventColumns} FROM outpost_audit_events WHERE tenant_id = @tenant AND seq >= @from ORDER BY seq");
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("from", fromSequence);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return ReadEntry(reader);
        }
    }

    /// <summary>One page of events matching <paramref name="query"/>, in log order.</summary>
    public async Task<IReadOnlyList<AuditEntry>> QueryAsync(
        string tenant, AuditQuery query, int limit, CancellationToken cancellationToken = default) =>
        (await QueryPageAsync(tenant, query, limit, long.MaxValue, cancellationToken)).Entries;

    /// <summary>
    /// One page of events matching <paramref name="query"/>, in log order: at most <paramref name="limit"/> events, and
    /// no more once their stored bodies add up to <paramref name="maxBodyBytes"/> (the first event always comes), so a
    /// page's memory is bounded however large the bodies. <c>More</c> says whether rows were left unread.
    /// </summary>
    public async Task<(IReadOnlyList<AuditEntry> Entries, bool More)> QueryPageAsync(
        string tenant, AuditQuery query, int limit, long maxBodyBytes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var command = dataSource.CreateCommand();
        await using (command)
        {
            var where = new List<string> { "tenant_id = @tenant" };
            command.Parameters.AddWithValue("tenant", tenant);
            Add(where, command, "occurred_at >= @from", "from", query.From?.UtcDateTime, NpgsqlDbType.TimestampTz);
            Add(where, command, "occurred_at < @to", "to", query.To?.UtcDateTime, NpgsqlDbType.TimestampTz);
            Add(where, command, "seq > @after", "after", query.AfterSequence, NpgsqlDbType.Bigint);
            Add(where, command, "subject = @subject", "subject", query.Subject, NpgsqlDbType.Text);
            Add(where, command, "client_id = @client", "client", query.ClientId, NpgsqlDbType.Text);
            Add(where, command, "action = @action", "action", query.Action, NpgsqlDbType.Text);
            Add(where, command, "decision = @decision", "decision", query.Decision, NpgsqlDbType.Text);
            Add(where, command, "device = @device", "device", query.Device, NpgsqlDbType.Text);
            Add(where, command, "request_id = @request", "request", query.RequestId, NpgsqlDbType.Text);
            command.CommandText =
                $"SELECT {EventColumns} FROM outpost_audit_events WHERE {string.Join(" AND ", where)} ORDER BY seq LIMIT @limit";
            command.Parameters.AddWithValue("limit", limit + 1);
            var entries = new List<AuditEntry>();
            long bodyBytes = 0;
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                if (entries.Count == limit)
                {
                    return (entries, true);
                }

                var entry = ReadEntry(reader);
                bodyBytes += (entry.Event.RequestBody?.Length ?? 0) + (entry.Event.ResponseBody?.Length ?? 0);
                if (entries.Count > 0 && bodyBytes > maxBodyBytes)
                {
                    return (entries, true);
                }

                entries.Add(entry);
            }

            return (entries, false);
        }
    }

    /// <summary>The request ids the tenant logged at or after <paramref name="since"/>, with their positions.</summary>
    public async Task<Dictionary<string, long>> RecentRequestIdsAsync(string tenant, DateTimeOffset since, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT request_id, seq FROM outpost_audit_events WHERE tenant_id = @tenant AND occurred_at >= @since");
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("since", NpgsqlDbType.TimestampTz, since.UtcDateTime);
        var ids = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids[reader.GetString(0)] = reader.GetInt64(1);
        }

        return ids;
    }

    /// <summary>Stores a checkpoint; when one exists for the same size, returns that one instead.</summary>
    public async Task<AuditCheckpoint> AddCheckpointAsync(AuditCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        await using var command = dataSource.CreateCommand("""
            INSERT INTO outpost_audit_checkpoints (tenant_id, tree_size, root_hash, signed_at, key_id, signature)
            VALUES (@tenant, @size, @root, @at, @kid, @signature)
            ON CONFLICT (tenant_id, tree_size) DO NOTHING
            """);
        command.Parameters.AddWithValue("tenant", checkpoint.Tenant);
        command.Parameters.AddWithValue("size", checkpoint.TreeSize);
        command.Parameters.AddWithValue("root", checkpoint.RootHash);
        command.Parameters.AddWithValue("at", NpgsqlDbType.TimestampTz, checkpoint.SignedAt.UtcDateTime);
        command.Parameters.AddWithValue("kid", checkpoint.KeyId);
        command.Parameters.AddWithValue("signature", checkpoint.Signature);
        if (await command.ExecuteNonQueryAsync(cancellationToken) == 1)
        {
            return checkpoint;
        }

        var existing = await ReadCheckpointsAsync(checkpoint.Tenant, checkpoint.TreeSize, checkpoint.TreeSize, cancellationToken);
        return existing.Single();
    }

    /// <summary>The tenant's checkpoints with sizes in [<paramref name="minSize"/>, <paramref name="maxSize"/>], by size.</summary>
    public async Task<IReadOnlyList<AuditCheckpoint>> ReadCheckpointsAsync(
        string tenant, long minSize = 0, long maxSize = long.MaxValue, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT tree_size, root_hash, signed_at, key_id, signature FROM outpost_audit_checkpoints
            WHERE tenant_id = @tenant AND tree_size BETWEEN @min AND @max ORDER BY tree_size
            """);
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("min", minSize);
        command.Parameters.AddWithValue("max", maxSize);
        var checkpoints = new List<AuditCheckpoint>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            checkpoints.Add(ReadCheckpoint(reader, tenant));
        }

        return checkpoints;
    }

    /// <summary>The tenant's latest checkpoint, or null.</summary>
    public async Task<AuditCheckpoint?> LatestCheckpointAsync(string tenant, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT tree_size, root_hash, signed_at, key_id, signature FROM outpost_audit_checkpoints
            WHERE tenant_id = @tenant ORDER BY tree_size DESC LIMIT 1
            """);
        command.Parameters.AddWithValue("tenant", tenant);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? ReadCheckpoint(reader, tenant)
            : null;
    }

    /// <summary>The tenant's latest prune, or null when nothing was pruned.</summary>
    public async Task<AuditPrune?> LatestPruneAsync(string tenant, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            """
            SELECT p.tree_size, p.compact_range, p.pruned_at, p.key_id, p.signature, l.compact_range IS NOT NULL AND l.compact_range = p.compact_range
              FROM outpost_audit_prunes AS p
              LEFT JOIN outpost_audit_legacy_prunes AS l ON l.tenant_id = p.tenant_id AND l.tree_size = p.tree_size
             WHERE p.tenant_id = @tenant
             ORDER BY p.tree_size DESC
             LIMIT 1
            """);
        command.Parameters.AddWithValue("tenant", tenant);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var packed = (byte[])reader[1];
        var range = Enumerable.Range(0, packed.Length / MerkleHash.Size).Select(i => packed.AsSpan(i * MerkleHash.Size, MerkleHash.Size).ToArray()).ToList();
        return new AuditPrune(
            reader.GetInt64(0),
            range,
            new DateTimeOffset(reader.GetDateTime(2), TimeSpan.Zero),
            reader.IsDBNull(3) ? null : reader.GetString(3),
            reader.IsDBNull(4) ? null : (byte[])reader[4],
            reader.GetBoolean(5));
    }

    /// <summary>
    /// The time of the event at <paramref name="sequence"/>, or null when there is none. Used to find the newest signed
    /// segment whose events have all expired.
    /// </summary>
    public async Task<DateTimeOffset?> EventTimeAsync(string tenant, long sequence, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("SELECT occurred_at FROM outpost_audit_events WHERE tenant_id = @tenant AND seq = @seq");
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("seq", sequence);
        return await command.ExecuteScalarAsync(cancellationToken) is DateTime time ? new DateTimeOffset(time, TimeSpan.Zero) : null;
    }

    /// <summary>
    /// Records a prune at the signed checkpoint of <paramref name="treeSize"/> and removes the events and checkpoints
    /// before it, in one transaction. <paramref name="keyId"/> and <paramref name="signature"/> are the audit key's
    /// signature over the prune (<see cref="Signing.AuditSigner.SignPruneAsync"/>); verification honours no other.
    /// </summary>
    public async Task PruneAsync(
        string tenant, long treeSize, IReadOnlyList<byte[]> compactRange, string keyId, byte[] signature, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(compactRange);
        ArgumentException.ThrowIfNullOrEmpty(keyId);
        ArgumentNullException.ThrowIfNull(signature);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var record = new NpgsqlCommand(
            "INSERT INTO outpost_audit_prunes (tenant_id, tree_size, compact_range, key_id, signature) VALUES (@tenant, @size, @range, @kid, @signature)",
            connection,
            transaction))
        {
            record.Parameters.AddWithValue("kid", keyId);
            record.Parameters.AddWithValue("signature", signature);
            record.Parameters.AddWithValue("tenant", tenant);
            record.Parameters.AddWithValue("size", treeSize);
            record.Parameters.AddWithValue("range", compactRange.SelectMany(hash => hash).ToArray());
            await record.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var events = new NpgsqlCommand(
            "DELETE FROM outpost_audit_events WHERE tenant_id = @tenant AND seq < @size", connection, transaction))
        {
            events.Parameters.AddWithValue("tenant", tenant);
            events.Parameters.AddWithValue("size", treeSize);
            await events.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var checkpoints = new NpgsqlCommand(
            "DELETE FROM outpost_audit_checkpoints WHERE tenant_id = @tenant AND tree_size < @size", connection, transaction))
        {
            checkpoints.Parameters.AddWithValue("tenant", tenant);
            checkpoints.Parameters.AddWithValue("size", treeSize);
            await checkpoints.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>The tenant's audit settings; the defaults (keep forever, no bodies) when none were set.</summary>
    public async Task<AuditSettings> GetSettingsAsync(string tenant, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT retention_days, store_bodies FROM outpost_audit_settings WHERE tenant_id = @tenant");
        command.Parameters.AddWithValue("tenant", tenant);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new AuditSettings(reader.IsDBNull(0) ? null : reader.GetInt32(0), reader.GetBoolean(1))
            : AuditSettings.DefaultFor(tenant);
    }

    /// <summary>Replaces the tenant's audit settings.</summary>
    public async Task SetSettingsAsync(string tenant, AuditSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        await using var command = dataSource.CreateCommand("""
            INSERT INTO outpost_audit_settings (tenant_id, retention_days, store_bodies, updated_at) VALUES (@tenant, @days, @bodies, now())
            ON CONFLICT (tenant_id) DO UPDATE SET retention_days = excluded.retention_days, store_bodies = excluded.store_bodies, updated_at = now()
            """);
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("days", NpgsqlDbType.Integer, (object?)settings.RetentionDays ?? DBNull.Value);
        command.Parameters.AddWithValue("bodies", settings.StoreBodies);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void Add(List<string> where, NpgsqlCommand command, string condition, string name, object? value, NpgsqlDbType type)
    {
        if (value is null)
        {
            return;
        }

        where.Add(condition);
        command.Parameters.AddWithValue(name, type, value);
    }

    private static async Task WriteNullableAsync(NpgsqlBinaryImporter importer, byte[]? value, CancellationToken cancellationToken)
    {
        if (value is null)
        {
            await importer.WriteNullAsync(cancellationToken);
        }
        else
        {
            await importer.WriteAsync(value, NpgsqlDbType.Bytea, cancellationToken);
        }
    }

    // Columns: tree_size, root_hash, signed_at, key_id, signature.
    private static AuditCheckpoint ReadCheckpoint(NpgsqlDataReader reader, string tenant) => new(
        tenant, reader.GetInt64(0), (byte[])reader[1], new DateTimeOffset(reader.GetDateTime(2), TimeSpan.Zero), reader.GetString(3), (byte[])reader[4]);

    private static AuditEntry ReadEntry(NpgsqlDataReader reader)
    {
        var target = reader.GetString(11);
        var auditEvent = new AuditEvent(
            Time: new DateTimeOffset(reader.GetDateTime(2), TimeSpan.Zero),
            Subject: reader.GetString(3),
            Action: reader.GetString(6),
            Decision: reader.GetString(8),
            Target: target.Length == 0 ? null : target,
            RequestId: reader.GetString(1),
            ClientId: reader.GetString(4),
            SourceAddress: reader.GetString(5),
            Scopes: reader.GetString(7),
            Rule: reader.GetString(9),
            Reason: reader.GetString(10),
            Device: reader.GetString(12),
            Silo: reader.GetString(13),
            Model: reader.GetString(14),
            CostMicros: reader.GetInt64(15),
            Status: reader.GetInt32(16),
            Outcome: reader.GetString(17),
            RequestSha256: (byte[])reader[18],
            ResponseSha256: (byte[])reader[19],
            RequestBody: reader.IsDBNull(20) ? null : (byte[])reader[20],
            ResponseBody: reader.IsDBNull(21) ? null : (byte[])reader[21]);
        return new AuditEntry(reader.GetInt64(0), auditEvent, (byte[])reader[22]);
    }
}
