using System.Net;
using System.Net.Http.Json;
using Outpost.Grains.TenantQuotas;
using Outpost.Identity;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.Gateway.Tests.Spending;

/// <summary>A tenant's rate limits apply to free edge work too, cache hits included; another tenant is not affected.</summary>
[Collection(ClusterCollection.Name)]
public sealed class FreeWorkRateLimitTests(OutpostClusterFixture fixture)
{
    [Fact]
    public async Task FreeEmbeddings_RequestsPerMinuteOne_TheSecondRequestIsRefused()
    {
        await fixture.Cluster.Client.GetGrain<ITenantQuotaGrain>("free-rated").SetLimitsAsync(new TenantLimits(0, BudgetPeriod.Monthly, RequestsPerMinute: 1, 0));
        using var client = fixture.Cluster.CreateHttpClient(fixture.Cluster.IssueDevelopmentToken("free-rated", [Scopes.EmbedCreate]));
        using var other = fixture.Cluster.CreateHttpClient(fixture.Cluster.IssueDevelopmentToken("free-unrated", [Scopes.EmbedCreate]));

        using var first = await client.PostAsJsonAsync("/v1/embeddings", new { model = "all-MiniLM-L6-v2", input = "rated once" });
        using var second = await client.PostAsJsonAsync("/v1/embeddings", new { model = "all-MiniLM-L6-v2", input = "rated twice" });
        using var cached = await client.PostAsJsonAsync("/v1/embeddings", new { model = "all-MiniLM-L6-v2", input = "rated once" });
        using var unrated = await other.PostAsJsonAsync("/v1/embeddings", new { model = "all-MiniLM-L6-v2", input = "rated twice" });

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Contains("tenant-rate-limited", await second.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(second.Headers.RetryAfter is not null, "a tenant rate refusal says when to retry");
        Assert.Equal(HttpStatusCode.TooManyRequests, cached.StatusCode);
        Assert.Equal(HttpStatusCode.OK, unrated.StatusCode);
    }
}
