using Npgsql;
using Outpost.Grains.AuditLogs;
using Outpost.Testing.Cluster;

namespace Outpost.Testing.AuditLogs;

/// <summary>Where a request's audit event is, for tests that read it straight from PostgreSQL.</summary>
public static class AuditRows
{
    /// <summary>
    /// The tenant whose log holds the request's event, or whose intake has it staged; null when neither does. Right
    /// after a response, this is the durability the gateway promises: the event is one or the other.
    /// </summary>
    public static async Task<string?> DurableTenantAsync(string connectionString, string requestId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT tenant_id FROM outpost_audit_events WHERE request_id = $1
            UNION ALL
            SELECT tenant_id FROM outpost_audit_intake WHERE request_id = $1
            LIMIT 1
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = requestId });
        return await command.ExecuteScalarAsync() as string;
    }

    /// <summary>
    /// Checks the request's event is durable, then has its tenant's log take what is staged, so that the event is in
    /// <c>outpost_audit_events</c>. Returns the tenant, or null when the event is nowhere.
    /// </summary>
    public static async Task<string?> EnsureLoggedAsync(OutpostCluster cluster, string requestId)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var tenant = await DurableTenantAsync(cluster.ConnectionString, requestId);
        if (tenant is not null)
        {
            await cluster.Client.GetGrain<IAuditLogGrain>(tenant).IngestStagedAsync();
        }

        return tenant;
    }
}
