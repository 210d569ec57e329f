using Npgsql;
using Outpost.Testing;
using Outpost.Testing.Cluster;
using Outpost.Testing.Hailo;
using Outpost.Testing.PostgreSql;
using Xunit;

namespace Outpost.Gateway.Tests.Security;

/// <summary>
/// A cluster for security tests: two devices, an LLM stand-in on dev-pi-1 (so every endpoint has something to serve),
/// rate limits high enough that the tests measure authentication, not throttling.
/// </summary>
public sealed class SecuredClusterFixture : IAsyncLifetime
{
    private PostgreSqlServer? _postgres;
    private FakeHailoOllamaServer? _hailo;
    private OutpostCluster? _cluster;

    public OutpostCluster Cluster => _cluster ?? throw new InvalidOperationException("Not initialized.");

    public async Task InitializeAsync()
    {
        _postgres = await PostgreSqlServer.StartAsync();
        _hailo = await FakeHailoOllamaServer.StartAsync();
        _cluster = await OutpostCluster.StartAsync(_postgres, new OutpostClusterSettings
        {
            EdgeDevices = ["dev-pi-1", "dev-pi-2"],
            EdgeConfiguration = new Dictionary<string, string?> { ["Inference:Hailo:BaseUrl"] = _hailo.BaseUrl.ToString() },
            GatewayConfiguration = new Dictionary<string, string?>
            {
                ["Limits:RequestsPerSecond"] = "100000",
                ["Limits:Burst"] = "100000",
                ["Limits:AnonymousRequestsPerSecond"] = "100000",
                ["Security:DeviceFlow:IntervalSeconds"] = "1",
            },
        });

        // Tenant B owns dev-pi-2; dev-pi-1 stays shared. The gateway re-reads assignments every second.
        await using var data = NpgsqlDataSource.Create(_cluster.ConnectionString);
        await using var command = data.CreateCommand("""
            INSERT INTO outpost_tenants (tenant_id, display_name) VALUES ('tenant-a', 'A'), ('tenant-b', 'B') ON CONFLICT DO NOTHING;
            INSERT INTO outpost_device_assignments (device_id, tenant_id) VALUES ('dev-pi-2', 'tenant-b')
                ON CONFLICT (device_id) DO UPDATE SET tenant_id = excluded.tenant_id;
            """);
        await command.ExecuteNonQueryAsync();
        await Task.Delay(TimeSpan.FromSeconds(3));
    }

    public Task DisposeAsync() => Disposal.DisposeInOrderAsync(_cluster, _hailo, _postgres);
}

[CollectionDefinition(Name)]
public sealed class SecuredClusterCollection : ICollectionFixture<SecuredClusterFixture>
{
    public const string Name = "secured-cluster";
}
