using System.CommandLine;
using System.Globalization;
using Npgsql;
using Outpost.Identity.Tenants;
using Outpost.ServiceDefaults.Configuration;

namespace Outpost.Admin.Commands;

/// <summary>
/// <c>devices list</c>, <c>devices assign &lt;device&gt; (--tenant T | --shared)</c>. Reads PostgreSQL, not the cluster:
/// the edge silos' membership rows (silo name <c>edge-&lt;device id&gt;</c>) joined with the tenant assignments, so it
/// works with the cluster down. "online" means the silo's row is Active; the gateway's device directory has the live view.
/// </summary>
internal static class DeviceCommands
{
    public const string Name = "devices";

    private const int ActiveSiloStatus = 3;

    public static Command Create(CliContext context)
    {
        var list = new Command("list", "Lists the edge devices the cluster has seen and those assigned to a tenant.");
        list.SetAction(async (parse, cancellationToken) =>
        {
            var cluster = context.Configuration.GetValidated<OutpostClusterOptions>(OutpostClusterOptions.Section);
            var dataSource = await context.DatabaseAsync(cancellationToken);
            var assignments = await context.GetAsync<DeviceAssignmentStore>(cancellationToken);
            var owners = (await assignments.ListAsync(cancellationToken)).ToDictionary(a => a.DeviceId, a => a.TenantId, StringComparer.Ordinal);
            var seen = await SeenAsync(dataSource, cluster.ClusterId, cancellationToken);
            await context.Output.WriteLineAsync($"{"DEVICE",-24} {"TENANT",-24} {"STATUS",-8} LAST SEEN");
            foreach (var deviceId in owners.Keys.Union(seen.Keys).Order(StringComparer.Ordinal))
            {
                await context.Output.WriteLineAsync(Row(deviceId, owners.GetValueOrDefault(deviceId), seen.TryGetValue(deviceId, out var last) ? last : null));
            }

            return 0;
        });

        var device = new Argument<string>("device") { Description = "The device id." };
        var tenant = new Option<string?>("--tenant") { Description = "The tenant the device serves from now on." };
        var shared = new Option<bool>("--shared") { Description = "The device serves every tenant." };
        var assign = new Command("assign", "Assigns a device to a tenant, or makes it shared.") { device, tenant, shared };
        assign.SetAction(async (parse, cancellationToken) =>
        {
            var tenantId = parse.GetValue(tenant);
            if ((tenantId is null) == !parse.GetValue(shared))
            {
                throw new CliUsageException("give either --tenant <id> or --shared.");
            }

            var assignments = await context.GetAsync<DeviceAssignmentStore>(cancellationToken);
            var assignment = await assignments.SetAsync(parse.GetRequiredValue(device), tenantId, cancellationToken);
            await context.Output.WriteLineAsync($"device {assignment.DeviceId}: {assignment.TenantId ?? "(shared)"}");
            return 0;
        });

        return new Command(Name, "Lists and assigns edge devices.") { list, assign };
    }

    /// <summary>Each edge silo's newest membership row: whether it is active, and when it last said it was alive.</summary>
    private static async Task<Dictionary<string, (bool Online, DateTimeOffset LastSeen)>> SeenAsync(
        NpgsqlDataSource dataSource, string clusterId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT DISTINCT ON (substr(siloname, 6)) substr(siloname, 6), status, iamalivetime
              FROM orleansmembershiptable
             WHERE deploymentid = @cluster AND siloname LIKE 'edge-%'
             ORDER BY substr(siloname, 6), starttime DESC
            """);
        command.Parameters.AddWithValue("cluster", clusterId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var seen = new Dictionary<string, (bool, DateTimeOffset)>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            seen[reader.GetString(0)] = (reader.GetInt32(1) == ActiveSiloStatus, reader.GetFieldValue<DateTimeOffset>(2));
        }

        return seen;
    }

    private static string Row(string deviceId, string? tenantId, (bool Online, DateTimeOffset LastSeen)? seen)
    {
        var status = seen is null ? "unseen" : seen.Value.Online ? "online" : "offline";
        var lastSeen = seen is null ? "-" : seen.Value.LastSeen.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        return $"{deviceId,-24} {tenantId ?? "(shared)",-24} {status,-8} {lastSeen}";
    }
}
