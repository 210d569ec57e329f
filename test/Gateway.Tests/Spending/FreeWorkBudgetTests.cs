using System.Net;
using System.Net.Http.Json;
using Outpost.Grains.TenantQuotas;
using Outpost.Identity;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.Gateway.Tests.Spending;

/// <summary>
/// Free edge work (the shared cluster prices it at zero) holds no reservation, yet a tenant with a budget is told on
/// every metered response what is left; a tenant without one is not.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class FreeWorkBudgetTests(OutpostClusterFixture fixture)
{
    [Fact]
    public async Task FreeEmbeddings_TenantWithABudget_EveryResponseSaysWhatIsLeft()
    {
        const long budget = 7_000_000;
        await fixture.Cluster.Client.GetGrain<ITenantQuotaGrain>("free-budgeted").SetLimitsAsync(
            new TenantLimits(budget, BudgetPeriod.Monthly, 0, 0));
        using var client = fixture.Cluster.CreateHttpClient(fixture.Cluster.IssueDevelopmentToken("free-budgeted", [Scopes.EmbedCreate, Scopes.InferCreate]));

        // A miss (routed to a device), then the same text again (a cache hit), then the infer endpoint's embed task.
        using var miss = await client.PostAsJsonAsync("/v1/embeddings", new { model = "all-MiniLM-L6-v2", input = "what is left" });
        using var hit = await client.PostAsJsonAsync("/v1/embeddings", new { model = "all-MiniLM-L6-v2", input = "what is left" });
        using var infer = await client.PostAsJsonAsync("/v1/infer", new { task = "embed", payload = new { model = "all-MiniLM-L6-v2", input = "what is left" } });

        foreach (var response in new[] { miss, hit, infer })
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            Assert.Equal("0", response.Headers.GetValues("X-Outpost-Cost").Single());
            Assert.Equal(budget.ToString(System.Globalization.CultureInfo.InvariantCulture), response.Headers.GetValues("X-Outpost-Budget-Remaining").Single());
        }
    }

    [Fact]
    public async Task FreeEmbeddings_TenantWithoutABudget_NoRemainingHeader()
    {
        using var client = fixture.Cluster.CreateHttpClient(fixture.Cluster.IssueDevelopmentToken("free-unbudgeted", [Scopes.EmbedCreate]));

        using var response = await client.PostAsJsonAsync("/v1/embeddings", new { model = "all-MiniLM-L6-v2", input = "no budget here" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("X-Outpost-Budget-Remaining"));
    }
}
