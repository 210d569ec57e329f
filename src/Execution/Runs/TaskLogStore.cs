using Npgsql;

namespace Outpost.Execution.Runs;

/// <summary>
/// The log of a live run, chunk by chunk as its device sends it: what lets a reactivated TaskRun grain (its silo died,
/// or its directory entry was lost with another silo) carry on with the log it had, even when the device is gone too.
/// </summary>
public sealed class TaskLogStore(NpgsqlDataSource dataSource)
{
    /// <summary>Stores a chunk at its offset (a resent chunk is not stored twice).</summary>
    public async Task AppendAsync(string runId, int attempt, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            "INSERT INTO outpost_task_log_chunks (run_id, attempt, log_offset, data) VALUES (@r, @a, @o, @d) ON CONFLICT DO NOTHING");
        command.Parameters.AddWithValue("r", runId);
        command.Parameters.AddWithValue("a", attempt);
        command.Parameters.AddWithValue("o", offset);
        command.Parameters.AddWithValue("d", data.ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The attempt's log as stored, in order, up to the first gap.</summary>
    public async Task<byte[]> ReadAsync(string runId, int attempt, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT log_offset, data FROM outpost_task_log_chunks WHERE run_id = @r AND attempt = @a ORDER BY log_offset");
        command.Parameters.AddWithValue("r", runId);
        command.Parameters.AddWithValue("a", attempt);
        using var log = new MemoryStream();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken) && reader.GetInt64(0) == log.Length)
        {
            var data = (byte[])reader[1];
            log.Write(data);
        }

        return log.ToArray();
    }

    /// <summary>Removes a run's chunks (every attempt): its log is stored as an artifact now.</summary>
    public async Task DeleteAsync(string runId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM outpost_task_log_chunks WHERE run_id = @r");
        command.Parameters.AddWithValue("r", runId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
