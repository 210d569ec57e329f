using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Outpost.Identity;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.Gateway.Tests.Security;

/// <summary>A tenant is a namespace: another tenant's devices and cache entries do not exist for it.</summary>
[Collection(SecuredClusterCollection.Name)]
public sealed class TenantIsolationTests(SecuredClusterFixture fixture)
{
    private const string TenantA = "tenant-a";
    private const string TenantB = "tenant-b";

    private OutpostCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task Embeddings_SameTextInTwoTenants_NeverServedFromTheOthersCache()
    {
        using var a = Client(TenantA, Scopes.EmbedCreate);
        using var b = Client(TenantB, Scopes.EmbedCreate);
        var body = new { model = "all-MiniLM-L6-v2", input = $"a private sentence {Guid.NewGuid()}" };

        Assert.Equal("miss", await CacheStatusAsync(a, body));
        Assert.Equal("miss", await CacheStatusAsync(b, body));
        Assert.Equal("hit", await CacheStatusAsync(a, body));
        Assert.Equal("hit", await CacheStatusAsync(b, body));
    }

    [Fact]
    public async Task Embeddings_DeviceAssignedToAnotherTenant_NeverServesThisTenant()
    {
        using var a = Client(TenantA, Scopes.EmbedCreate);
        using var b = Client(TenantB, Scopes.EmbedCreate);
        var servedA = await DevicesServingAsync(a, 40);
        var servedB = await DevicesServingAsync(b, 40);

        Assert.Equal(["dev-pi-1"], servedA);
        Assert.Contains("dev-pi-2", servedB);
    }

    [Fact]
    public async Task Devices_AnotherTenantsDevice_IsNotListedAndAnswers404()
    {
        using var a = Client(TenantA, Scopes.Admin);
        using var system = Client(OutpostClaims.SystemTenant, Scopes.Admin);

        var listedA = await IdsAsync(a);
        var listedSystem = await IdsAsync(system);
        using var probe = await a.GetAsync("/v1/devices/dev-pi-2");

        Assert.DoesNotContain("dev-pi-2", listedA);
        Assert.Contains("dev-pi-1", listedA);
        Assert.Contains("dev-pi-2", listedSystem);
        Assert.Equal(HttpStatusCode.NotFound, probe.StatusCode);
        Assert.DoesNotContain("tenant-b", await probe.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private HttpClient Client(string tenant, params string[] scopes) =>
        Cluster.CreateHttpClient(Cluster.IssueDevelopmentToken(tenant, scopes));

    private static async Task<string?> CacheStatusAsync(HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/v1/embeddings", body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.GetValues("X-Outpost-Cache").Single();
    }

    private static async Task<HashSet<string>> DevicesServingAsync(HttpClient client, int requests)
    {
        var responses = await Task.WhenAll(Enumerable.Range(0, requests).Select(async i =>
        {
            using var response = await client.PostAsJsonAsync("/v1/embeddings", new { model = "all-MiniLM-L6-v2", input = $"spread {i} {Guid.NewGuid()}" });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return response.Headers.GetValues("X-Outpost-Device").Single();
        }));
        return [.. responses];
    }

    private static async Task<List<string>> IdsAsync(HttpClient client)
    {
        var body = await client.GetFromJsonAsync<JsonElement>("/v1/devices");
        return body.GetProperty("data").EnumerateArray().Select(d => d.GetProperty("id").GetString()!).ToList();
    }
}
