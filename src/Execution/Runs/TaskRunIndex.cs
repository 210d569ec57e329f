using Npgsql;

namespace Outpost.Execution.Runs;

/// <summary>
/// The runs of each tenant by status, kept by the TaskRun grains as they change (each write after the grain's own state
/// is durable), read by the gateway's lists and approval queue. The grain is the truth; the index is how to find it.
/// </summary>
public sealed class TaskRunIndex(NpgsqlDataSource dataSource)
{
    /// <summary>Adds or updates a run's row.</summary>
    public async Task UpsertAsync(TaskRunIndexRow row, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(row);
        await using var command = dataSource.CreateCommand("""
            INSERT INTO outpost_task_runs (run_id, tenant_id, status, kind, requested_by, client_id, device_id, approval, policy_rule, approval_expires_at, created_at, updated_at)
            VALUES (@r, @t, @s, @k, @by, @c, @d, @a, @p, @e, @ca, @ua)
            ON CONFLICT (run_id) DO UPDATE SET status = EXCLUDED.status, device_id = EXCLUDED.device_id,
                approval_expires_at = EXCLUDED.approval_expires_at, updated_at = EXCLUDED.updated_at
            """);
        command.Parameters.AddWithValue("r", row.RunId);
        command.Parameters.AddWithValue("t", row.Tenant);
        command.Parameters.AddWithValue("s", row.Status);
        command.Parameters.AddWithValue("k", row.Kind);
        command.Parameters.AddWithValue("by", row.RequestedBy);
        command.Parameters.AddWithValue("c", row.ClientId);
        command.Parameters.AddWithValue("d", (object?)row.Device ?? DBNull.Value);
        command.Parameters.AddWithValue("a", row.Approval);
        command.Parameters.AddWithValue("p", row.PolicyRule);
        command.Parameters.AddWithValue("e", (object?)row.ApprovalExpiresAt ?? DBNull.Value);
        command.Parameters.AddWithValue("ca", row.CreatedAt);
        command.Parameters.AddWithValue("ua", row.UpdatedAt);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>A tenant's runs, newest first, optionally only those in <paramref name="status"/>, created before <paramref name="before"/>.</summary>
    public async Task<IReadOnlyList<TaskRunIndexRow>> ListAsync(
        string tenant, string? status, int limit, DateTimeOffset? before = null, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT run_id, tenant_id, status, kind, requested_by, client_id, device_id, approval, policy_rule, approval_expires_at, created_at, updated_at
              FROM outpost_task_runs
             WHERE tenant_id = @t AND (@s::text IS NULL OR status = @s) AND (@b::timestamptz IS NULL OR created_at < @b)
             ORDER BY created_at DESC, run_id DESC
             LIMIT @l
            """);
        command.Parameters.AddWithValue("t", tenant);
        command.Parameters.Add(new NpgsqlParameter("s", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)status ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("b", NpgsqlTypes.NpgsqlDbType.TimestampTz) { Value = (object?)before ?? DBNull.Value });
        command.Parameters.AddWithValue("l", limit);
        var rows = new List<TaskRunIndexRow>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new TaskRunIndexRow(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetString(7), reader.GetString(8),
                reader.IsDBNull(9) ? null : reader.GetFieldValue<DateTimeOffset>(9),
                reader.GetFieldValue<DateTimeOffset>(10), reader.GetFieldValue<DateTimeOffset>(11)));
        }

        return rows;
    }
}
