using Npgsql;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.Gateway.Tests.Security;

/// <summary>
/// A cluster for security tests: two devices, an LLM stand-in on dev-pi-1 (so every endpoint has something to serve),
/// rate limits high enough that the tests measure authentication, not throttling.
/// </summary>
public sealed class SecuredClusterFixture() : OutpostClusterFixture(new ClusterScenario
{
    Hailo = true,
    GatewayConfiguration = new Dictionary<string, string?>(ClusterScenario.NoRateLimit)
    {
        ["Security:DeviceFlow:IntervalSeconds"] = "1",
        ["Security:SigningKeys:RefreshInterval"] = "00:00:02",
    },
})
{
    protected override async Task OnStartedAsync()
    {
        // Tenant B owns dev-pi-2; dev-pi-1 stays shared. The gateway re-reads assignments every second.
        await using var data = NpgsqlDataSource.Create(Cluster.ConnectionString);
        await using var command = data.CreateCommand("""
            INSERT INTO outpost_tenants (tenant_id, display_name) VALUES ('tenant-a', 'A'), ('tenant-b', 'B') ON CONFLICT DO NOTHING;
            INSERT INTO outpost_device_assignments (device_id, tenant_id) VALUES ('dev-pi-2', 'tenant-b')
                ON CONFLICT (device_id) DO UPDATE SET tenant_id = excluded.tenant_id;
            """);
        await command.ExecuteNonQueryAsync();
        await Task.Delay(TimeSpan.FromSeconds(3));
    }
}

[CollectionDefinition(Name)]
public sealed class SecuredClusterCollection : ICollectionFixture<SecuredClusterFixture>
{
    public const string Name = "secured-cluster";
}
