using Npgsql;
using NpgsqlTypes;

namespace Outpost.Spending;

/// <summary>
/// The append-only ledger of committed charges (<c>outpost_spend_ledger</c>): the history behind the quota grains'
/// counters, which reset every period. Each reservation is charged at most once (a unique constraint on its id), so a
/// commit retried after a crash finds the row it wrote before instead of charging twice.
/// </summary>
public sealed class SpendLedger(NpgsqlDataSource dataSource)
{
    private const string Columns =
        "tenant_id, client_id, kind, target, request_id, reservation_id, cost_micros, actual_cost_micros, input_tokens, output_tokens, paid, period_start, committed_at, id";

    /// <summary>
    /// Appends <paramref name="entry"/> and returns it as stored. When its reservation was charged before, nothing is
    /// written and the earlier row is returned instead.
    /// </summary>
    public async Task<SpendLedgerEntry> AppendAsync(SpendLedgerEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await using var command = dataSource.CreateCommand($"""
            INSERT INTO outpost_spend_ledger
                (tenant_id, client_id, kind, target, request_id, reservation_id, cost_micros, actual_cost_micros, input_tokens, output_tokens, paid, period_start)
            VALUES (@tenant, @client, @kind, @target, @request, @reservation, @cost, @actual, @input, @output, @paid, @period)
            ON CONFLICT (reservation_id) DO NOTHING
            RETURNING committed_at, id
            """);
        command.Parameters.AddWithValue("tenant", entry.TenantId);
        command.Parameters.AddWithValue("client", entry.ClientId);
        command.Parameters.AddWithValue("kind", entry.Kind);
        command.Parameters.AddWithValue("target", entry.Target);
        command.Parameters.AddWithValue("request", entry.RequestId);
        command.Parameters.AddWithValue("reservation", entry.ReservationId);
        command.Parameters.AddWithValue("cost", entry.CostMicros);
        command.Parameters.AddWithValue("actual", entry.ActualCostMicros);
        command.Parameters.AddWithValue("input", entry.InputTokens);
        command.Parameters.AddWithValue("output", entry.OutputTokens);
        command.Parameters.AddWithValue("paid", entry.Paid);
        command.Parameters.AddWithValue("period", NpgsqlDbType.TimestampTz, entry.PeriodStart.ToUniversalTime());
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken))
            {
                return entry with { CommittedAt = new DateTimeOffset(reader.GetDateTime(0), TimeSpan.Zero), Id = reader.GetInt64(1) };
            }
        }

        var existing = await FindAsync(entry.TenantId, [entry.ReservationId], cancellationToken);
        return existing.Count == 1
            ? existing[0]
            : throw new InvalidOperationException($"Reservation '{entry.ReservationId}' is in the spend ledger under another tenant.");
    }

    /// <summary>The ledger rows of <paramref name="tenantId"/> for any of <paramref name="reservationIds"/>.</summary>
    public async Task<IReadOnlyList<SpendLedgerEntry>> FindAsync(
        string tenantId,
        IReadOnlyCollection<string> reservationIds,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reservationIds);
        if (reservationIds.Count == 0)
        {
            return [];
        }

        await using var command = dataSource.CreateCommand(
            $"SELECT {Columns} FROM outpost_spend_ledger WHERE tenant_id = @tenant AND reservation_id = ANY(@ids)");
        command.Parameters.AddWithValue("tenant", tenantId);
        command.Parameters.AddWithValue("ids", reservationIds.ToArray());
        return await ReadEntriesAsync(command, cancellationToken);
    }

    /// <summary>The tenant's rows written after row <paramref name="afterId"/>, in the order they were written.</summary>
    public async Task<IReadOnlyList<SpendLedgerEntry>> ReadSinceAsync(string tenantId, long afterId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM outpost_spend_ledger WHERE tenant_id = @tenant AND id > @after ORDER BY id");
        command.Parameters.AddWithValue("tenant", tenantId);
        command.Parameters.AddWithValue("after", afterId);
        return await ReadEntriesAsync(command, cancellationToken);
    }

    /// <summary>The id of the tenant's newest row, or 0.</summary>
    public async Task<long> LastIdAsync(string tenantId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("SELECT COALESCE(max(id), 0) FROM outpost_spend_ledger WHERE tenant_id = @tenant");
        command.Parameters.AddWithValue("tenant", tenantId);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// The tenant's committed charges with <c>from &lt;= committed_at &lt; to</c>, summed per client, kind, target or
    /// UTC day, ordered by key.
    /// </summary>
    public async Task<IReadOnlyList<SpendLedgerRow>> QueryAsync(
        string tenantId,
        DateTimeOffset from,
        DateTimeOffset to,
        SpendGrouping groupBy,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tenantId);

        // The key expression comes from this switch only, never from the caller's text.
        var key = groupBy switch
        {
            SpendGrouping.Client => "client_id",
            SpendGrouping.Kind => "kind",
            SpendGrouping.Target => "target",
            SpendGrouping.Day => "to_char(committed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
            _ => throw new ArgumentOutOfRangeException(nameof(groupBy), groupBy, "Unknown grouping."),
        };

        await using var command = dataSource.CreateCommand($"""
            SELECT {key} AS key,
                   COALESCE(sum(cost_micros), 0)::bigint,
                   count(*),
                   COALESCE(sum(input_tokens), 0)::bigint,
                   COALESCE(sum(output_tokens), 0)::bigint
              FROM outpost_spend_ledger
             WHERE tenant_id = @tenant AND committed_at >= @from AND committed_at < @to
             GROUP BY 1
             ORDER BY 1
            """);
        command.Parameters.AddWithValue("tenant", tenantId);
        command.Parameters.AddWithValue("from", NpgsqlDbType.TimestampTz, from.ToUniversalTime());
        command.Parameters.AddWithValue("to", NpgsqlDbType.TimestampTz, to.ToUniversalTime());
        var rows = new List<SpendLedgerRow>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new SpendLedgerRow(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4)));
        }

        return rows;
    }

    private static async Task<List<SpendLedgerEntry>> ReadEntriesAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var entries = new List<SpendLedgerEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(new SpendLedgerEntry(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetString(2),
                reader.GetString(3),
                reader.GetString(4),
                reader.GetString(5),
                reader.GetInt64(6),
                reader.GetInt64(7),
                reader.GetInt32(8),
                reader.GetInt32(9),
                reader.GetBoolean(10),
                new DateTimeOffset(reader.GetDateTime(11), TimeSpan.Zero),
                new DateTimeOffset(reader.GetDateTime(12), TimeSpan.Zero),
                reader.GetInt64(13)));
        }

        return entries;
    }
}
