using Outpost.Grains.TenantQuotas;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.Grains.Tests.TenantQuotas;

[Collection(ClusterCollection.Name)]
public sealed class TenantQuotaGrainTests(OutpostClusterFixture fixture)
{
    private static readonly TenantLimits Limits = new(BudgetMicros: 25_000_000, BudgetPeriod.Monthly, RequestsPerMinute: 600, TokensPerMinute: 200_000);

    [Fact]
    public async Task GetLimitsAsync_NeverSet_ReturnsNull()
    {
        var quota = fixture.Cluster.Client.GetGrain<ITenantQuotaGrain>("quota-unset");

        Assert.Null(await quota.GetLimitsAsync());
    }

    [Fact]
    public async Task SetLimitsAsync_ThenDeactivated_ReadsBackFromStorage()
    {
        var quota = fixture.Cluster.Client.GetGrain<ITenantQuotaGrain>("quota-stored");
        await quota.SetLimitsAsync(Limits with { CloudFallbackAllowed = true });

        await fixture.Cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        Assert.Equal(Limits with { CloudFallbackAllowed = true }, await quota.GetLimitsAsync());
    }

    [Theory]
    [InlineData(-1, 80, "budgetMicros")]
    [InlineData(1000, 0, "softLimitPercent")]
    [InlineData(1000, 101, "softLimitPercent")]
    public async Task SetLimitsAsync_InvalidLimits_ThrowsAndKeepsPreviousLimits(long budget, int softLimit, string field)
    {
        var quota = fixture.Cluster.Client.GetGrain<ITenantQuotaGrain>($"quota-invalid-{field}-{budget}-{softLimit}");
        await quota.SetLimitsAsync(Limits);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => quota.SetLimitsAsync(Limits with { BudgetMicros = budget, SoftLimitPercent = softLimit }));

        Assert.Contains(field, error.Message, StringComparison.Ordinal);
        Assert.Equal(Limits, await quota.GetLimitsAsync());
    }
}
