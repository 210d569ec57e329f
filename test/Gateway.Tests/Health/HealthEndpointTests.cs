using System.Net;
using System.Text.Json;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.Gateway.Tests.Health;

/// <summary>The gateway's readiness: a cluster gateway answers and the database answers.</summary>
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
}
