using Npgsql;

namespace Outpost.Gateway.Routing;

/// <summary>Reads device assignments from PostgreSQL (<c>outpost_device_assignments</c>).</summary>
public sealed class PostgresDeviceAssignments(NpgsqlDataSource dataSource) : IDeviceAssignments
{
    public async Task<IReadOnlyDictionary<string, string>> LoadAsync(CancellationToken cancellationToken)
    {
        var assignments = new Dictionary<string, string>(StringComparer.Ordinal);
        await using var command = dataSource.CreateCommand(
            "SELECT device_id, tenant_id FROM outpost_device_assignments WHERE tenant_id IS NOT NULL");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            assignments[reader.GetString(0)] = reader.GetString(1);
        }

        return assignments;
    }
}
