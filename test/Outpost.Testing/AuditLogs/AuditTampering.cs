using Npgsql;

namespace Outpost.Testing.AuditLogs;

public static class AuditTampering
{
    /// <summary>
    /// What a superuser can do to an audit table: switch its triggers off, run <paramref name="sql"/> (with the tenant
    /// as <c>@t</c>), and switch them back on, enabled ALWAYS as the migration left them.
    /// </summary>
    public static async Task AsSuperuserAsync(string ownerConnectionString, string sql, string tenant, string table = "outpost_audit_events")
    {
        await using var connection = new NpgsqlConnection(ownerConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var off = new NpgsqlCommand($"ALTER TABLE {table} DISABLE TRIGGER USER", connection, transaction))
        {
            await off.ExecuteNonQueryAsync();
        }

        await using (var change = new NpgsqlCommand(sql, connection, transaction))
        {
            change.Parameters.AddWithValue("t", tenant);
            await change.ExecuteNonQueryAsync();
        }

        await using (var triggers = new NpgsqlCommand(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = @table::regclass AND NOT tgisinternal", connection, transaction))
        {
            triggers.Parameters.AddWithValue("table", table);
            var names = new List<string>();
            await using (var reader = await triggers.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    names.Add(reader.GetString(0));
                }
            }

            foreach (var name in names)
            {
                await using var on = new NpgsqlCommand($"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {name}", connection, transaction);
                await on.ExecuteNonQueryAsync();
            }
        }

        await transaction.CommitAsync();
    }
}
