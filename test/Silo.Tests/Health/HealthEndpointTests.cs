using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.Silo.Tests.Health;

/// <summary>The control silo's liveness and readiness, which answer without a token.</summary>
[Collection(ClusterCollection.Name)]
public sealed class HealthEndpointTests(OutpostClusterFixture fixture) : IDisposable
{
    private readonly HttpClient _http = new()
    {
        BaseAddress = new Uri(((WebApplication)fixture.Cluster.Control.Host).Urls.First()),
    };

    [Fact]
    public async Task Healthz_RunningControlSilo_ReturnsOk()
    {
        using var response = await _http.GetAsync(new Uri("/healthz", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Readyz_JoinedClusterWithDatabase_ReportsClusterAndDatabaseHealthy()
    {
        using var response = await _http.GetAsync(new Uri("/readyz", UriKind.Relative));

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        using var json = JsonDocument.Parse(body);
        Assert.Equal("Healthy", json.RootElement.GetProperty("status").GetString());
        var checks = json.RootElement.GetProperty("checks");
        Assert.Equal("Healthy", checks.GetProperty("cluster").GetProperty("status").GetString());
        Assert.Equal("Healthy", checks.GetProperty("database").GetProperty("status").GetString());
    }

    public void Dispose() => _http.Dispose();
}
