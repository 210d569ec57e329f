using Outpost.Testing.PostgreSql;
using Xunit;

namespace Outpost.Testing.Cluster;

/// <summary>One PostgreSQL server and one cluster (a control silo, dev-pi-1, dev-pi-2, the gateway) shared by a test collection.</summary>
public sealed class OutpostClusterFixture : IAsyncLifetime
{
    private PostgreSqlServer? _postgres;
    private OutpostCluster? _cluster;

    public PostgreSqlServer Postgres => _postgres ?? throw new InvalidOperationException("Not initialized.");

    public OutpostCluster Cluster => _cluster ?? throw new InvalidOperationException("Not initialized.");

    public async Task InitializeAsync()
    {
        _postgres = await PostgreSqlServer.StartAsync();
        _cluster = await OutpostCluster.StartAsync(_postgres, new OutpostClusterSettings
        {
            GatewayConfiguration = new Dictionary<string, string?> { ["Diagnostics:ServerTiming"] = "true", ["Routing:ReadyMinDevices"] = "2" },
        });
    }

    public Task DisposeAsync() => Disposal.DisposeInOrderAsync(_cluster, _postgres);
}
