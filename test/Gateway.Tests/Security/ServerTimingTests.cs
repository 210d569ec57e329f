using System.Net;
using System.Net.Http.Json;
using Outpost.Identity;
using Xunit;

namespace Outpost.Gateway.Tests.Security;

/// <summary>
/// A gateway that was not told to (<c>Diagnostics:ServerTiming</c>) does not tell callers how long its audit write,
/// quota check, cache or device took.
/// </summary>
[Collection(SecuredClusterCollection.Name)]
public sealed class ServerTimingTests(SecuredClusterFixture fixture)
{
    [Fact]
    public async Task ServerTiming_NotConfigured_NoResponseCarriesTimings()
    {
        using var client = fixture.Cluster.CreateHttpClient(fixture.Cluster.IssueDevelopmentToken("tenant-a", [Scopes.EmbedCreate], clientId: "timing"));
        using var anonymous = fixture.Cluster.CreateHttpClient();

        using var served = await client.PostAsJsonAsync("/v1/embeddings", new { model = "all-MiniLM-L6-v2", input = $"timing {Guid.NewGuid()}" });
        using var refused = await anonymous.PostAsJsonAsync("/v1/embeddings", new { model = "all-MiniLM-L6-v2", input = "timing" });

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.Unauthorized), (served.StatusCode, refused.StatusCode));
        Assert.True(served.Headers.Contains("X-Request-Id"));
        Assert.False(served.Headers.Contains("Server-Timing"));
        Assert.False(refused.Headers.Contains("Server-Timing"));
    }
}
