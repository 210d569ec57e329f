using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Outpost.Grains.AuditLogs;

namespace Outpost.AuditLog.Storage;

/// <summary>
/// The audit intake (<c>outpost_audit_intake</c>, migration 0008): where a gateway makes events durable with one
/// statement before it answers, and where the AuditLog grains pick them up to log them. A staged row leaves only in
/// the transaction that logs its event (<see cref="AuditStore.AppendAsync"/>); the table's trigger refuses any other
/// delete.
/// </summary>
public sealed class AuditIntake(NpgsqlDataSource dataSource)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    /// <summary>
    /// Stages normalized events of any tenants with one INSERT (one round trip; the gateway stages small batches, and
    /// large ones only when their direct write failed); durable when it returns. Staging an event whose
    /// request id is already staged for its tenant (a retry after a lost acknowledgement) changes nothing.
    /// </summary>
    public async Task StageAsync(IReadOnlyList<(string Tenant, AuditEvent Event)> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            return;
        }

        var tenants = new string[events.Count];
        var ids = new string[events.Count];
        var bodies = new byte[events.Count][];
        for (var i = 0; i < events.Count; i++)
        {
            tenants[i] = events[i].Tenant;
            ids[i] = events[i].Event.RequestId;
            bodies[i] = Serialize(events[i].Event);
        }

        await using var command = dataSource.CreateCommand(
            "INSERT INTO outpost_audit_intake (tenant_id, request_id, event) SELECT * FROM unnest($1, $2, $3) ON CONFLICT DO NOTHING");
        command.Parameters.Add(new NpgsqlParameter { Value = tenants, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = bodies, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Up to <paramref name="maxCount"/> of the tenant's staged events, oldest first.</summary>
    public async Task<IReadOnlyList<AuditEvent>> ReadAsync(string tenant, int maxCount, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT event FROM outpost_audit_intake WHERE tenant_id = $1 ORDER BY staged_at, request_id LIMIT $2");
        command.Parameters.Add(new NpgsqlParameter { Value = tenant });
        command.Parameters.Add(new NpgsqlParameter { Value = maxCount });
        var events = new List<AuditEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(Deserialize((byte[])reader[0]));
        }

        return events;
    }

    /// <summary>The tenants with an event staged at or before <paramref name="before"/>: those whose logging is overdue.</summary>
    public async Task<IReadOnlyList<string>> TenantsWithEventsStagedBeforeAsync(DateTimeOffset before, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT DISTINCT tenant_id FROM outpost_audit_intake WHERE staged_at <= $1");
        command.Parameters.Add(new NpgsqlParameter { Value = before.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        var tenants = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            tenants.Add(reader.GetString(0));
        }

        return tenants;
    }

    /// <summary>How many events of the tenant are staged and not logged yet.</summary>
    public async Task<long> CountAsync(string tenant, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM outpost_audit_intake WHERE tenant_id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = tenant });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>The intake's UTF-8 JSON for an event: snake_case members, digests and bodies in base64.</summary>
    public static byte[] Serialize(AuditEvent auditEvent) => JsonSerializer.SerializeToUtf8Bytes(auditEvent, Json);

    /// <summary>An event back from the intake's JSON.</summary>
    public static AuditEvent Deserialize(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<AuditEvent>(json, Json) ?? throw new JsonException("A staged audit event is null.");
}
