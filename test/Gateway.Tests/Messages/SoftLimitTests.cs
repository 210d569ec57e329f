using System.Net;
using System.Text.Json;
using Anthropic;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using Outpost.Grains.TenantQuotas;
using Outpost.Identity;
using Xunit;

namespace Outpost.Gateway.Tests.Messages;

/// <summary>Past the soft limit, work the edge can do stays local and cloud-only work needs the tenant's consent.</summary>
public sealed class SoftLimitTests(MessagesClusterFixture fixture) : IClassFixture<MessagesClusterFixture>
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CloudModel_PastSoftLimit_NeedsAllowCloudOverSoftLimit(bool allowed)
    {
        var tenant = allowed ? "soft-allowed" : "soft-refused";
        await fixture.CreateTenantAsync(tenant, cloudAllowed: true);

        // A 1% soft threshold of a large budget: the first cloud reservation alone passes it.
        await fixture.Cluster.Client.GetGrain<ITenantQuotaGrain>(tenant).SetLimitsAsync(
            new TenantLimits(100_000, BudgetPeriod.Monthly, 0, 0, SoftLimitPercent: 1, CloudFallbackAllowed: true, AllowCloudOverSoftLimit: allowed));
        var before = fixture.Anthropic.TotalRequests;

        var call = Sdk(tenant).Messages.Create(Params(MessagesClusterFixture.CloudModel));

        if (allowed)
        {
            var message = await call;
            Assert.True(message.Usage.OutputTokens > 0);
            Assert.Equal(before + 1, fixture.Anthropic.TotalRequests);
        }
        else
        {
            var error = await Assert.ThrowsAnyAsync<AnthropicApiException>(() => call);
            Assert.Equal(HttpStatusCode.PaymentRequired, error.StatusCode);
            using var body = JsonDocument.Parse(error.ResponseBody!);
            Assert.Contains("allowCloudOverSoftLimit", body.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Equal(before, fixture.Anthropic.TotalRequests);
            Assert.Empty(await fixture.LedgerAsync(tenant));
        }
    }

    [Fact]
    public async Task EdgeModel_PastSoftLimit_StillServedLocallyAndNeverSentUpstream()
    {
        const string Tenant = "soft-edge";
        await fixture.CreateTenantAsync(Tenant, cloudAllowed: true);
        await fixture.Cluster.Client.GetGrain<ITenantQuotaGrain>(Tenant).SetLimitsAsync(
            new TenantLimits(100_000, BudgetPeriod.Monthly, 0, 0, SoftLimitPercent: 1, CloudFallbackAllowed: true));
        var before = fixture.Anthropic.TotalRequests;

        var message = await Sdk(Tenant).Messages.Create(Params(MessagesClusterFixture.EdgeModel));

        Assert.True(message.Usage.OutputTokens > 0);
        Assert.Equal(before, fixture.Anthropic.TotalRequests);
        Assert.Equal("edge", Assert.Single(await fixture.LedgerAsync(Tenant)).Target);
    }

    private AnthropicClient Sdk(string tenant) => new()
    {
        ApiKey = fixture.Cluster.IssueDevelopmentToken(tenant, [Scopes.InferCreate]),
        BaseUrl = fixture.GatewayUrl,
        MaxRetries = 0,
    };

    private static MessageCreateParams Params(string model) => new()
    {
        Model = model,
        MaxTokens = 64,
        Messages = [new UserMessageParam("how far is the soft limit")],
    };
}
