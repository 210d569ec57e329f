using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Outpost.Gateway.Routing;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.Gateway.Tests.Health;

/// <summary>
/// The gateway's readiness: a cluster gateway answers, the database answers, and the router sees the devices
/// <c>Routing:ReadyMinDevices</c> asks for (2 in this fixture), so that the first request after "ready" is served.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class HealthEndpointTests(OutpostClusterFixture fixture)
{
    [Fact]
    public async Task Readyz_ConnectedToCluster_ReturnsOkAndHealthy()
    {
        using var response = await fixture.Cluster.Http.GetAsync(new Uri("/readyz", UriKind.Relative));

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        using var json = JsonDocument.Parse(body);
        Assert.Equal("Healthy", json.RootElement.GetProperty("status").GetString());
        var checks = json.RootElement.GetProperty("checks");
        Assert.Equal("Healthy", checks.GetProperty("cluster").GetProperty("status").GetString());
        Assert.Equal("Healthy", checks.GetProperty("database").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Readyz_OnceReady_TheFirstEmbeddingsRequestIsServed()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        string body;
        while (true)
        {
            using var ready = await fixture.Cluster.Http.GetAsync(new Uri("/readyz", UriKind.Relative));
            body = await ready.Content.ReadAsStringAsync();
            if (ready.StatusCode == HttpStatusCode.OK)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"never ready: {body}");
            await Task.Delay(100);
        }

        using var response = await fixture.Cluster.Http.PostAsync(
            new Uri("/v1/embeddings", UriKind.Relative),
            new StringContent("""{"model":"all-MiniLM-L6-v2","input":"the first request after ready"}""", System.Text.Encoding.UTF8, "application/json"));

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        using var json = JsonDocument.Parse(body);
        var routing = json.RootElement.GetProperty("checks").GetProperty("routing");
        Assert.Equal("Healthy", routing.GetProperty("status").GetString());
        Assert.Contains("all-MiniLM-L6-v2", routing.GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RoutingCheck_CountsTheRoutersOnlineDevicesWithModels()
    {
        var catalog = fixture.Cluster.Gateway.Services.GetRequiredService<DeviceCatalog>();
        await fixture.Cluster.WaitForDeviceAsync("dev-pi-1", online: true);
        await fixture.Cluster.WaitForDeviceAsync("dev-pi-2", online: true);

        // Other tests of the collection may add devices: count what the router sees now, then ask for that and one more.
        var serving = catalog.Devices.Count(d => d.Online && d.Record.Registration.Models.Count > 0);
        Assert.True(serving >= 2, $"the router sees {serving} serving devices");
        var enough = await new RoutingReadinessCheck(catalog, Options.Create(new RoutingOptions { ReadyMinDevices = serving }))
            .CheckHealthAsync(new HealthCheckContext());
        var tooFew = await new RoutingReadinessCheck(catalog, Options.Create(new RoutingOptions { ReadyMinDevices = serving + 1 }))
            .CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Healthy, enough.Status);
        Assert.Contains($"sees {serving} online devices with models it can call (", enough.Description, StringComparison.Ordinal);
        Assert.Equal(HealthStatus.Unhealthy, tooFew.Status);
        Assert.Contains($"ReadyMinDevices asks for {serving + 1}", tooFew.Description, StringComparison.Ordinal);
    }
}
