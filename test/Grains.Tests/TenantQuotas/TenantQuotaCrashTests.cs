using Outpost.Grains.TenantQuotas;
using Outpost.Testing.Cluster;
using Outpost.Testing.PostgreSql;
using Xunit;
using static Outpost.Grains.Tests.TenantQuotas.SpendRequests;

namespace Outpost.Grains.Tests.TenantQuotas;

/// <summary>Commits do not write the quota state; a silo killed before the next write loses no charge.</summary>
public sealed class TenantQuotaCrashTests(PostgreSqlFixture postgres) : IClassFixture<PostgreSqlFixture>
{
    [Fact]
    public async Task Commits_SiloKilledBeforeTheStateIsWritten_AreCountedFromTheLedgerOnReactivation()
    {
        const long Cost = 1_000;
        await using var cluster = await OutpostCluster.StartAsync(postgres.Server);
        var management = cluster.Client.GetGrain<IManagementGrain>(0);
        var before = (await management.GetHosts(onlyActive: true)).Keys.ToHashSet();
        var victim = await cluster.StartControlSiloProcessAsync();
        var victimAddress = (await management.GetHosts(onlyActive: true)).Keys.Single(address => !before.Contains(address));

        // Placement is random among control silos, once the new silo's grain types are known cluster-wide.
        var tenants = new List<string>();
        var onVictim = new List<string>();
        for (var i = 0; i < 400 && onVictim.Count < 4; i++)
        {
            var tenant = $"crash-{i}-{Guid.NewGuid():N}"[..20];
            var quota = cluster.Client.GetGrain<ITenantQuotaGrain>(tenant);
            await quota.SetLimitsAsync(Budget(10 * Cost));
            tenants.Add(tenant);
            if (await management.GetActivationAddress(quota) == victimAddress)
            {
                onVictim.Add(tenant);
            }
            else if (onVictim.Count == 0)
            {
                await Task.Delay(50);
            }
        }

        Assert.True(onVictim.Count > 0, "no quota grain was placed on the silo about to be killed");

        // Three commits each, then the kill, well within the grain's five-second write interval.
        await Task.WhenAll(tenants.Select(async tenant =>
        {
            var quota = cluster.Client.GetGrain<ITenantQuotaGrain>(tenant);
            for (var i = 0; i < 3; i++)
            {
                var reservation = await quota.ReserveAsync(Paid($"{tenant}-{i}", Cost));
                await quota.CommitAsync(reservation.ReservationId!, Cost, inputTokens: 1, outputTokens: 1);
            }
        }));
        await victim.KillAsync();

        foreach (var tenant in tenants)
        {
            var status = await RetryAsync(() => cluster.Client.GetGrain<ITenantQuotaGrain>(tenant).GetStatusAsync());
            Assert.Equal((3 * Cost, 0L, 0), (status.CommittedMicros, status.ReservedMicros, status.OpenReservations));
            Assert.Equal(7 * Cost, status.RemainingMicros);
            Assert.Equal((3L, 3 * Cost), await LedgerTotalsAsync(cluster.ConnectionString, tenant));
        }
    }

    // Calls to grains of the dead silo fail until the cluster has declared it dead (a bound, not a timing).
    private static async Task<T> RetryAsync<T>(Func<Task<T>> call)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception ex) when (ex is SiloUnavailableException or OrleansMessageRejectionException or TimeoutException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }
        }
    }
}
