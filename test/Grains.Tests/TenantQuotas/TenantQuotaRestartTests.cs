using Outpost.Grains.TenantQuotas;
using Outpost.Testing.Cluster;
using Outpost.Testing.PostgreSql;
using Xunit;
using static Outpost.Grains.Tests.TenantQuotas.SpendRequests;

namespace Outpost.Grains.Tests.TenantQuotas;

/// <summary>Stops every silo and the gateway of a private cluster and starts them again on the same database.</summary>
public sealed class TenantQuotaRestartTests(PostgreSqlFixture postgres) : IClassFixture<PostgreSqlFixture>
{
    [Fact]
    public async Task Spend_FullClusterRestart_SurvivesAndTheCrashedReservationExpires()
    {
        await using var cluster = await OutpostCluster.StartAsync(postgres.Server, new OutpostClusterSettings { EdgeDevices = [] });
        var limits = Budget(10_000) with { ClientBudgetsMicros = new Dictionary<string, long> { ["client-a"] = 8_000 } };
        var quota = cluster.Client.GetGrain<ITenantQuotaGrain>("restart-tenant");
        await quota.SetLimitsAsync(limits);
        var committed = await quota.ReserveAsync(Paid("restart-1", 3_000));
        await quota.CommitAsync(committed.ReservationId!, 2_500, 10, 10);
        var inFlight = await quota.ReserveAsync(Paid("restart-2", 1_000));
        var crashed = await quota.ReserveAsync(Paid("restart-3", 2_000, ttl: TimeSpan.FromSeconds(20)));
        Assert.True(inFlight.Granted && crashed.Granted);

        await cluster.StopAllAsync();
        await cluster.StartAllAsync();

        quota = cluster.Client.GetGrain<ITenantQuotaGrain>("restart-tenant");
        Assert.Equal(limits, await quota.GetLimitsAsync());
        var charge = await quota.CommitAsync(inFlight.ReservationId!, 1_000, 1, 1);
        Assert.Equal((SpendCommitOutcome.Committed, 1_000L), (charge.Outcome, charge.ChargedMicros));

        // Nobody settles restart-3: its hold is released once its TTL passes, by the restarted activation.
        var status = await WaitForStatusAsync(quota, s => s.OpenReservations == 0, TimeSpan.FromSeconds(90));
        Assert.Equal((3_500L, 0L, 6_500L), (status.CommittedMicros, status.ReservedMicros, status.RemainingMicros));
        Assert.Equal(3_500, status.ClientCommittedMicros["client-a"]);
        Assert.Equal((2L, 3_500L), await LedgerTotalsAsync(cluster.ConnectionString, "restart-tenant"));
        Assert.Equal(SpendCommitOutcome.NotFound, (await quota.CommitAsync(crashed.ReservationId!, 2_000, 1, 1)).Outcome);
    }
}
