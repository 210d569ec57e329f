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

    [Fact]
    public async Task SetLimitsAsync_WithSubBudgetsAndResetTime_ReadsBackEqual()
    {
        var quota = fixture.Cluster.Client.GetGrain<ITenantQuotaGrain>("quota-sub-budgets");
        var limits = Limits with
        {
            ClientBudgetsMicros = new Dictionary<string, long> { ["cowork"] = 5_000_000 },
            KindBudgetsMicros = new Dictionary<string, long> { ["messages"] = 20_000_000, ["embed"] = 0 },
            ResetAtUtc = TimeSpan.FromHours(6),
            EdgeContinuesOverBudget = false,
        };
        await quota.SetLimitsAsync(limits);

        await fixture.Cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        var stored = await quota.GetLimitsAsync();

        Assert.Equal(limits, stored);
        Assert.NotEqual(limits with { KindBudgetsMicros = new Dictionary<string, long> { ["messages"] = 20_000_000 } }, stored);
        Assert.True(Limits.EdgeContinuesOverBudget);
        Assert.Equal(TimeSpan.Zero, Limits.ResetAtUtc);
    }

    [Theory]
    [InlineData("client", "clientBudgetsMicros")]
    [InlineData("kind", "kindBudgetsMicros")]
    [InlineData("reset-day", "resetAtUtc")]
    [InlineData("reset-negative", "resetAtUtc")]
    [InlineData("reset-fraction", "resetAtUtc")]
    public async Task SetLimitsAsync_InvalidNewLimits_Throws(string problem, string field)
    {
        var quota = fixture.Cluster.Client.GetGrain<ITenantQuotaGrain>($"quota-invalid-new-{problem}");
        var negative = new Dictionary<string, long> { ["x"] = -1 };
        var limits = problem switch
        {
            "client" => Limits with { ClientBudgetsMicros = negative },
            "kind" => Limits with { KindBudgetsMicros = negative },
            "reset-day" => Limits with { ResetAtUtc = TimeSpan.FromDays(1) },
            "reset-negative" => Limits with { ResetAtUtc = TimeSpan.FromSeconds(-1) },
            _ => Limits with { ResetAtUtc = TimeSpan.FromMilliseconds(1500) },
        };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => quota.SetLimitsAsync(limits));

        Assert.Contains(field, error.Message, StringComparison.Ordinal);
        Assert.Null(await quota.GetLimitsAsync());
    }

    [Fact]
    public async Task ReserveAsync_InvalidRequest_Throws()
    {
        var quota = fixture.Cluster.Client.GetGrain<ITenantQuotaGrain>("quota-invalid-request");
        await quota.SetLimitsAsync(Limits);

        var paidWithoutCost = await Assert.ThrowsAsync<ArgumentException>(() => quota.ReserveAsync(SpendRequests.Paid("bad-1", 0)));
        var noTtl = await Assert.ThrowsAsync<ArgumentException>(() => quota.ReserveAsync(SpendRequests.Paid("bad-2", 10, ttl: TimeSpan.Zero)));

        Assert.Contains("maxCostMicros", paidWithoutCost.Message, StringComparison.Ordinal);
        Assert.Contains("ttl", noTtl.Message, StringComparison.Ordinal);
        Assert.Equal(0, (await quota.GetStatusAsync()).OpenReservations);
    }
}
