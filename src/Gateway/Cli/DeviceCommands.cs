using System.CommandLine;
using System.Globalization;
using Npgsql;
using Outpost.ServiceDefaults.Configuration;

namespace Outpost.Gateway.Cli;

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
            await using var command = dataSource.CreateCommand("""
                WITH silos AS (
                    SELECT DISTINCT ON (substr(siloname, 6)) substr(siloname, 6) AS device_id, status, iamalivetime
                      FROM orleansmembershiptable
                     WHERE deploymentid = @cluster AND siloname LIKE 'edge-%'
                     ORDER BY substr(siloname, 6), starttime DESC
                )
                SELECT coalesce(s.device_id, a.device_id), a.tenant_id, s.status, s.iamalivetime
                  FROM silos AS s FULL OUTER JOIN outpost_device_assignments AS a ON a.device_id = s.device_id
                 ORDER BY 1
                """);
            command.Parameters.AddWithValue("cluster", cluster.ClusterId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await context.Output.WriteLineAsync($"{"DEVICE",-24} {"TENANT",-24} {"STATUS",-8} LAST SEEN");
            while (await reader.ReadAsync(cancellationToken))
            {
                await context.Output.WriteLineAsync(Row(reader));
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

            var assignments = await context.AssignmentsAsync(cancellationToken);
            var assignment = await assignments.SetAsync(parse.GetRequiredValue(device), tenantId, cancellationToken);
            await context.Output.WriteLineAsync($"device {assignment.DeviceId}: {assignment.TenantId ?? "(shared)"}");
            return 0;
        });

        return new Command(Name, "Lists and assigns edge devices.") { list, assign };
    }

    private static string Row(NpgsqlDataReader reader)
    {
        var status = reader.IsDBNull(2) ? "unseen" : reader.GetInt32(2) == ActiveSiloStatus ? "online" : "offline";
        var seen = reader.IsDBNull(3) ? "-" : reader.GetFieldValue<DateTimeOffset>(3).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        return $"{reader.GetString(0),-24} {(reader.IsDBNull(1) ? "(shared)" : reader.GetString(1)),-24} {status,-8} {seen}";
    }
}
