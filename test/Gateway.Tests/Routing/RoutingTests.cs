using System.Net;
using System.Net.Http.Json;
using Outpost.Grains.EdgeDevices;
using Outpost.Testing.Cluster;
using Outpost.Testing.PostgreSql;
using Xunit;

namespace Outpost.Gateway.Tests.Routing;

/// <summary>How the router answers when the device it lists cannot be reached the way it expects.</summary>
public sealed class RoutingTests(PostgreSqlFixture postgres) : IClassFixture<PostgreSqlFixture>
{
    [Fact]
    public async Task ListedDeviceWhoseGrainNoSiloHosts_Answers503WithRetryAfterAndTheReason()
    {
        // A device record the catalog shows online (its silo is the live control silo), while no edge silo has joined:
        // the gateway's cluster manifest names no silo that hosts device grains, as for a moment after an edge silo joins.
        await using var cluster = await OutpostCluster.StartAsync(postgres.Server, new OutpostClusterSettings
        {
            EdgeDevices = [],
            GatewayConfiguration = new Dictionary<string, string?>(ClusterScenario.NoRateLimit),
        });
        var record = new DeviceRecord(
            new DeviceRegistration("dev-ghost", "test", [], [new DeviceModel(InferenceApi.Model, "embed", "onnx")], "nowhere"),
            cluster.Control.Address,
            DateTimeOffset.UtcNow,
            DateTimeOffset.UtcNow);
        await cluster.Client.GetGrain<IDeviceDirectoryGrain>(IDeviceDirectoryGrain.Key).ReportAsync(record);

        using var response = await PostUntilRoutedAsync(cluster.Http);

        var problem = await InferenceApi.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, "no-device-available");
        Assert.Contains("dev-ghost: not yet known to this gateway", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.NotNull(response.Headers.RetryAfter);
    }

    // The catalog lists the reported device within its refresh interval; until then the model is simply unknown (404).
    private static async Task<HttpResponseMessage> PostUntilRoutedAsync(HttpClient http)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var response = await http.PostAsJsonAsync("/v1/embeddings", new { model = InferenceApi.Model, input = "ghost" });
            if (response.StatusCode != HttpStatusCode.NotFound || DateTime.UtcNow > deadline)
            {
                return response;
            }

            response.Dispose();
            await Task.Delay(200);
        }
    }
}
