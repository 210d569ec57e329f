using Npgsql;
using Outpost.Grains.TenantQuotas;
using Outpost.Spending;
using Outpost.Testing.Cluster;
using Xunit;
using static Outpost.Grains.Tests.TenantQuotas.SpendRequests;

namespace Outpost.Grains.Tests.TenantQuotas;

[Collection(ClusterCollection.Name)]
public sealed class SpendReservationTests(OutpostClusterFixture fixture)
{
    private IClusterClient Client => fixture.Cluster.Client;

    [Fact]
    public async Task ReserveAndCommit_ThousandConcurrentFromFiveClients_GrantExactlyTheBudget()
    {
        const int Affordable = 100;
        const long Cost = 1_234;
        const string Tenant = "exact-tenant";
        var quota = Client.GetGrain<ITenantQuotaGrain>(Tenant);
        await quota.SetLimitsAsync(Budget(Affordable * Cost));

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 1_000).Select(async i =>
        {
            var reservation = await quota.ReserveAsync(Paid($"exact-{i}", Cost, client: $"client-{i % 5}"));
            if (!reservation.Granted)
            {
                return (reservation.Denial, Charged: 0L);
            }

            var charge = await quota.CommitAsync(reservation.ReservationId!, Cost, inputTokens: 10, outputTokens: 20);
            return (reservation.Denial, Charged: charge.ChargedMicros);
        }));

        Assert.Equal(Affordable, outcomes.Count(o => o.Denial == SpendDenial.None));
        Assert.Equal(1_000 - Affordable, outcomes.Count(o => o.Denial == SpendDenial.BudgetExhausted));
        Assert.Equal(Affordable * Cost, outcomes.Sum(o => o.Charged));
        Assert.Equal((Affordable, Affordable * Cost), await LedgerTotalsAsync(fixture.Cluster.ConnectionString, Tenant));
        var status = await quota.GetStatusAsync();
        Assert.Equal((Affordable * Cost, 0L, 0L, 0), (status.CommittedMicros, status.ReservedMicros, status.RemainingMicros, status.OpenReservations));
        Assert.Equal(Affordable * Cost, status.ClientCommittedMicros.Values.Sum());
        Assert.Equal(5, status.ClientCommittedMicros.Count);
    }

    [Fact]
    public async Task ReserveAsync_InterleavedWithCommitsChargingLessThanHeld_NeverOverspends_AndUsesTheFreedBudget()
    {
        // Reservations interleave with commits waiting on the ledger; each commit frees part of its hold. However the
        // turns fall, committed plus held never passes the budget, and what commits free is granted again.
        const long Held = 1_000;
        const long BudgetMicros = 50 * Held;
        const string Tenant = "interleave-tenant";
        var quota = Client.GetGrain<ITenantQuotaGrain>(Tenant);
        await quota.SetLimitsAsync(Budget(BudgetMicros));

        var perWorker = await Task.WhenAll(Enumerable.Range(0, 16).Select(async worker =>
        {
            var charges = new List<long>();
            for (var i = 0; i < 40; i++)
            {
                var reservation = await quota.ReserveAsync(Paid($"interleave-{worker}-{i}", Held));
                if (reservation.Granted)
                {
                    var charge = await quota.CommitAsync(reservation.ReservationId!, 100 + (i % 9) * 100, inputTokens: 1, outputTokens: 1);
                    charges.Add(charge.ChargedMicros);
                }
            }

            return charges;
        }));
        var charged = perWorker.SelectMany(c => c).ToList();

        var status = await quota.GetStatusAsync();
        Assert.True(status.CommittedMicros <= BudgetMicros, $"committed {status.CommittedMicros} of {BudgetMicros}");
        Assert.Equal(charged.Sum(), status.CommittedMicros);
        Assert.Equal((0L, 0), (status.ReservedMicros, status.OpenReservations));
        Assert.True(charged.Count(c => c > 0) > 50, "commits that charged less than they held should have let more reservations in");
        Assert.Equal((charged.Count(c => c > 0), charged.Sum()), await LedgerTotalsAsync(fixture.Cluster.ConnectionString, Tenant));
    }

    [Fact]
    public async Task ReserveAsync_BudgetHeldByOpenReservations_DeniesWhatNoLongerFits()
    {
        var quota = Client.GetGrain<ITenantQuotaGrain>("held-tenant");
        await quota.SetLimitsAsync(Budget(1_000));

        var first = await quota.ReserveAsync(Paid("held-1", 600));
        var second = await quota.ReserveAsync(Paid("held-2", 600));
        var third = await quota.ReserveAsync(Paid("held-3", 400));

        Assert.True(first.Granted);
        Assert.Equal(400, first.RemainingMicros);
        Assert.Equal((false, SpendDenial.BudgetExhausted, (string?)null), (second.Granted, second.Denial, second.ReservationId));
        Assert.True(third.Granted);
        Assert.Equal(0, third.RemainingMicros);
    }

    [Fact]
    public async Task ReserveAsync_ClientSubBudgetUsedUp_DeniesThatClientOnly()
    {
        var quota = Client.GetGrain<ITenantQuotaGrain>("client-budget-tenant");
        await quota.SetLimitsAsync(Budget(10_000) with { ClientBudgetsMicros = new Dictionary<string, long> { ["small"] = 500 } });

        var small = await quota.ReserveAsync(Paid("cb-1", 400, client: "small"));
        await quota.CommitAsync(small.ReservationId!, 400, 1, 1);
        var smallAgain = await quota.ReserveAsync(Paid("cb-2", 200, client: "small"));
        var other = await quota.ReserveAsync(Paid("cb-3", 200, client: "other"));

        Assert.Equal(SpendDenial.ClientBudgetExhausted, smallAgain.Denial);
        Assert.True(other.Granted);
    }

    [Fact]
    public async Task ReserveAsync_KindSubBudgetUsedUp_DeniesThatKindOnly()
    {
        var quota = Client.GetGrain<ITenantQuotaGrain>("kind-budget-tenant");
        await quota.SetLimitsAsync(Budget(10_000) with { KindBudgetsMicros = new Dictionary<string, long> { ["execute"] = 300 } });

        var execute = await quota.ReserveAsync(Paid("kb-1", 300, kind: "execute"));
        var executeAgain = await quota.ReserveAsync(Paid("kb-2", 1, kind: "execute"));
        var messages = await quota.ReserveAsync(Paid("kb-3", 5_000, kind: "messages"));

        Assert.True(execute.Granted);
        Assert.Equal(SpendDenial.KindBudgetExhausted, executeAgain.Denial);
        Assert.True(messages.Granted);
    }

    [Fact]
    public async Task CommitAsync_SpendCrossesEightyPercent_FlagsSoftLimit()
    {
        var quota = Client.GetGrain<ITenantQuotaGrain>("soft-tenant");
        await quota.SetLimitsAsync(Budget(1_000));

        var below = await CommitAsync(quota, "soft-1", 799);
        var at = await CommitAsync(quota, "soft-2", 1);

        Assert.False(below.SoftLimitReached);
        Assert.True(at.SoftLimitReached);
        Assert.True((await quota.GetStatusAsync()).SoftLimitReached);
        Assert.Equal(200, at.RemainingMicros);
    }

    [Fact]
    public async Task ReserveAsync_FreeWorkOverBudget_AllowedOnlyWhenEdgeContinues()
    {
        var continues = Client.GetGrain<ITenantQuotaGrain>("edge-continues-tenant");
        var stops = Client.GetGrain<ITenantQuotaGrain>("edge-stops-tenant");
        await continues.SetLimitsAsync(Budget(500));
        await stops.SetLimitsAsync(Budget(500) with { EdgeContinuesOverBudget = false });
        await CommitAsync(continues, "edge-c-1", 500);
        await CommitAsync(stops, "edge-s-1", 500);

        var paid = await continues.ReserveAsync(Paid("edge-c-2", 1));
        var free = await continues.ReserveAsync(Free("edge-c-3"));
        var freeStopped = await stops.ReserveAsync(Free("edge-s-2"));
        var charge = await continues.CommitAsync(free.ReservationId!, 0, 5, 0);

        Assert.Equal(SpendDenial.BudgetExhausted, paid.Denial);
        Assert.True(free.Granted);
        Assert.Equal(SpendDenial.BudgetExhausted, freeStopped.Denial);
        Assert.Equal((SpendCommitOutcome.Committed, 0L), (charge.Outcome, charge.ChargedMicros));
        Assert.Equal(500, (await continues.GetStatusAsync()).CommittedMicros);
        Assert.Equal((2L, 500L), await LedgerTotalsAsync(fixture.Cluster.ConnectionString, "edge-continues-tenant"));
    }

    [Fact]
    public async Task ReserveAsync_TenantWithoutLimits_RefusesPaidAndAllowsFree()
    {
        var quota = Client.GetGrain<ITenantQuotaGrain>("no-limits-tenant");

        var paid = await quota.ReserveAsync(Paid("nl-1", 1));
        var free = await quota.ReserveAsync(Free("nl-2"));

        Assert.Equal(SpendDenial.NoLimits, paid.Denial);
        Assert.True(free.Granted);
    }

    [Fact]
    public async Task ReserveAsync_SameRequestIdTwice_ReturnsTheSameReservation()
    {
        var quota = Client.GetGrain<ITenantQuotaGrain>("idempotent-tenant");
        await quota.SetLimitsAsync(Budget(1_000));

        var first = await quota.ReserveAsync(Paid("idem-1", 700));
        var again = await quota.ReserveAsync(Paid("idem-1", 700));
        var conflict = await Assert.ThrowsAsync<ArgumentException>(() => quota.ReserveAsync(Paid("idem-1", 100)));

        Assert.Equal(first, again);
        Assert.Contains("idem-1", conflict.Message, StringComparison.Ordinal);
        var status = await quota.GetStatusAsync();
        Assert.Equal((700L, 1), (status.ReservedMicros, status.OpenReservations));
    }

    [Fact]
    public async Task ReleaseAsync_OpenReservation_ReturnsItsBudget()
    {
        var quota = Client.GetGrain<ITenantQuotaGrain>("release-tenant");
        await quota.SetLimitsAsync(Budget(1_000));
        var held = await quota.ReserveAsync(Paid("rel-1", 1_000));
        var denied = await quota.ReserveAsync(Paid("rel-2", 1));

        var released = await quota.ReleaseAsync(held.ReservationId!);
        var releasedAgain = await quota.ReleaseAsync(held.ReservationId!);
        var after = await quota.ReserveAsync(Paid("rel-3", 1_000));
        var commitReleased = await quota.CommitAsync(held.ReservationId!, 10, 1, 1);

        Assert.Equal(SpendDenial.BudgetExhausted, denied.Denial);
        Assert.True(released);
        Assert.False(releasedAgain);
        Assert.True(after.Granted);
        Assert.Equal((SpendCommitOutcome.NotFound, 0L), (commitReleased.Outcome, commitReleased.ChargedMicros));
    }

    [Fact]
    public async Task ReserveAsync_UnsettledPastItsTtl_IsReleased()
    {
        var quota = Client.GetGrain<ITenantQuotaGrain>("expiry-tenant");
        await quota.SetLimitsAsync(Budget(1_000));
        var held = await quota.ReserveAsync(Paid("exp-1", 1_000, ttl: TimeSpan.FromSeconds(2)));

        var status = await WaitForStatusAsync(quota, s => s.OpenReservations == 0, TimeSpan.FromSeconds(60));
        var commitLate = await quota.CommitAsync(held.ReservationId!, 1_000, 1, 1);

        Assert.True(held.Granted);
        Assert.Equal((0L, 0L, 1_000L), (status.ReservedMicros, status.CommittedMicros, status.RemainingMicros));
        Assert.Equal(SpendCommitOutcome.NotFound, commitLate.Outcome);
        Assert.True((await quota.ReserveAsync(Paid("exp-2", 1_000))).Granted);
    }

    [Fact]
    public async Task CommitAsync_ActualAboveReserved_ChargesOnlyWhatTheBudgetAbsorbs()
    {
        var quota = Client.GetGrain<ITenantQuotaGrain>("overrun-tenant");
        await quota.SetLimitsAsync(Budget(1_000));
        var other = await quota.ReserveAsync(Paid("over-1", 300));
        var overrun = await quota.ReserveAsync(Paid("over-2", 500));

        var charge = await quota.CommitAsync(overrun.ReservationId!, 900, 1, 1);

        // Its own 500 plus the 200 nobody holds; the other reservation's 300 stays guaranteed.
        Assert.Equal((SpendCommitOutcome.Committed, 700L, 900L, true), (charge.Outcome, charge.ChargedMicros, charge.ActualCostMicros, charge.Capped));
        Assert.Equal(0, charge.RemainingMicros);
        var otherCharge = await quota.CommitAsync(other.ReservationId!, 300, 1, 1);
        Assert.Equal(300, otherCharge.ChargedMicros);
        Assert.Equal(1_000, (await quota.GetStatusAsync()).CommittedMicros);
        Assert.Equal((2L, 1_000L), await LedgerTotalsAsync(fixture.Cluster.ConnectionString, "overrun-tenant"));
    }

    [Fact]
    public async Task CommitAsync_Retried_ChargesOnce()
    {
        var quota = Client.GetGrain<ITenantQuotaGrain>("retry-tenant");
        await quota.SetLimitsAsync(Budget(1_000));
        var held = await quota.ReserveAsync(Paid("retry-1", 400));

        var first = await quota.CommitAsync(held.ReservationId!, 350, 10, 20);
        var retried = await quota.CommitAsync(held.ReservationId!, 350, 10, 20);

        Assert.Equal((SpendCommitOutcome.Committed, 350L), (first.Outcome, first.ChargedMicros));
        Assert.Equal((SpendCommitOutcome.AlreadyCommitted, 350L), (retried.Outcome, retried.ChargedMicros));
        Assert.Equal(350, (await quota.GetStatusAsync()).CommittedMicros);
        Assert.Equal((1L, 350L), await LedgerTotalsAsync(fixture.Cluster.ConnectionString, "retry-tenant"));
    }

    [Fact]
    public async Task Activation_LedgerRowWithoutStateWrite_CountsTheCharge()
    {
        // As if the silo died between the ledger insert and the state write of a commit.
        const string Tenant = "reconcile-tenant";
        var quota = Client.GetGrain<ITenantQuotaGrain>(Tenant);
        await quota.SetLimitsAsync(Budget(1_000));
        var held = await quota.ReserveAsync(Paid("recon-1", 400));
        var before = await quota.GetStatusAsync();
        await using (var dataSource = NpgsqlDataSource.Create(fixture.Cluster.ConnectionString))
        {
            await new SpendLedger(dataSource).AppendAsync(new SpendLedgerEntry(
                Tenant, "client-a", "messages", CloudTarget, "recon-1", held.ReservationId!, 375, 375, 1, 1, true, before.PeriodStart));
        }

        await Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        var after = await quota.GetStatusAsync();
        var retried = await quota.CommitAsync(held.ReservationId!, 375, 1, 1);

        Assert.Equal((375L, 0L, 0), (after.CommittedMicros, after.ReservedMicros, after.OpenReservations));
        Assert.Equal((SpendCommitOutcome.AlreadyCommitted, 375L), (retried.Outcome, retried.ChargedMicros));
        Assert.Equal((1L, 375L), await LedgerTotalsAsync(fixture.Cluster.ConnectionString, Tenant));
    }

    [Fact]
    public async Task ReserveAsync_RequestsPerMinuteUsed_DeniesWithRetryAfter()
    {
        var quota = Client.GetGrain<ITenantQuotaGrain>("rpm-tenant");
        await quota.SetLimitsAsync(Budget(1_000_000) with { RequestsPerMinute = 3 });

        var granted = new List<SpendReservation>();
        for (var i = 0; i < 3; i++)
        {
            granted.Add(await quota.ReserveAsync(Free($"rpm-{i}")));
        }

        var denied = await quota.ReserveAsync(Paid("rpm-3", 10));

        Assert.All(granted, r => Assert.True(r.Granted));
        Assert.Equal(SpendDenial.RequestRateExceeded, denied.Denial);
        Assert.NotNull(denied.RetryAfter);
        Assert.InRange(denied.RetryAfter.Value, TimeSpan.Zero, TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task ReserveAsync_TokensPerMinuteUsed_DeniesWithRetryAfter()
    {
        var quota = Client.GetGrain<ITenantQuotaGrain>("tpm-tenant");
        await quota.SetLimitsAsync(Budget(1_000_000) with { TokensPerMinute = 1_000 });

        var first = await quota.ReserveAsync(Paid("tpm-1", 10, tokens: 600));
        var second = await quota.ReserveAsync(Paid("tpm-2", 10, tokens: 600));
        var tooBig = await quota.ReserveAsync(Paid("tpm-3", 10, tokens: 1_001));
        await quota.CommitAsync(first.ReservationId!, 10, inputTokens: 100, outputTokens: 100);
        var afterCommit = await quota.ReserveAsync(Paid("tpm-4", 10, tokens: 600));

        Assert.True(first.Granted);
        Assert.Equal(SpendDenial.TokenRateExceeded, second.Denial);
        Assert.NotNull(second.RetryAfter);
        Assert.Equal((SpendDenial.TokenRateExceeded, (TimeSpan?)null), (tooBig.Denial, tooBig.RetryAfter));
        Assert.True(afterCommit.Granted);
    }

    [Fact]
    public async Task Period_ResetTimePasses_CommittedSpendStartsAfreshAndLedgerKeepsHistory()
    {
        const string Tenant = "rollover-tenant";
        var quota = Client.GetGrain<ITenantQuotaGrain>(Tenant);
        var now = DateTimeOffset.UtcNow;
        var resetAt = TimeSpan.FromSeconds(Math.Floor((now.TimeOfDay + TimeSpan.FromSeconds(10)).TotalSeconds) % 86_400);
        await quota.SetLimitsAsync(Budget(1_000) with { Period = BudgetPeriod.Daily, ResetAtUtc = resetAt });
        await CommitAsync(quota, "roll-1", 900);
        var carried = await quota.ReserveAsync(Paid("roll-2", 100));
        var before = await quota.GetStatusAsync();

        var after = await WaitForStatusAsync(quota, s => s.PeriodStart > before.PeriodStart, TimeSpan.FromSeconds(60));

        Assert.True(carried.Granted);
        Assert.Equal((900L, 100L, 0L), (before.CommittedMicros, before.ReservedMicros, before.RemainingMicros));
        Assert.Equal(before.PeriodEnd, after.PeriodStart);
        Assert.Equal(after.PeriodStart.AddDays(1), after.PeriodEnd);
        Assert.Equal(resetAt, after.PeriodStart.TimeOfDay);
        Assert.Equal((0L, 100L, 900L), (after.CommittedMicros, after.ReservedMicros, after.RemainingMicros));
        Assert.Empty(after.ClientCommittedMicros);
        Assert.True((await quota.ReserveAsync(Paid("roll-3", 900))).Granted);
        Assert.Equal((1L, 900L), await LedgerTotalsAsync(fixture.Cluster.ConnectionString, Tenant));
        Assert.Equal(1, await CountReminderRowsAsync(Tenant));
    }

    [Fact]
    public async Task QueryAsync_GroupedByClientKindTargetAndDay_SumsTheLedger()
    {
        const string Tenant = "query-tenant";
        var quota = Client.GetGrain<ITenantQuotaGrain>(Tenant);
        await quota.SetLimitsAsync(Budget(1_000_000));
        var from = DateTimeOffset.UtcNow.AddMinutes(-1);
        await CommitAsync(quota, "q-1", 100, client: "alpha", kind: "messages", inputTokens: 1, outputTokens: 2);
        await CommitAsync(quota, "q-2", 200, client: "alpha", kind: "generate", inputTokens: 3, outputTokens: 4);
        await CommitAsync(quota, "q-3", 400, client: "beta", kind: "messages", inputTokens: 5, outputTokens: 6);
        var free = await quota.ReserveAsync(Free("q-4", client: "beta"));
        await quota.CommitAsync(free.ReservationId!, 0, 7, 0);
        var to = DateTimeOffset.UtcNow.AddMinutes(1);
        await using var dataSource = NpgsqlDataSource.Create(fixture.Cluster.ConnectionString);
        var ledger = new SpendLedger(dataSource);

        var byClient = await ledger.QueryAsync(Tenant, from, to, SpendGrouping.Client);
        var byKind = await ledger.QueryAsync(Tenant, from, to, SpendGrouping.Kind);
        var byTarget = await ledger.QueryAsync(Tenant, from, to, SpendGrouping.Target);
        var byDay = await ledger.QueryAsync(Tenant, from, to, SpendGrouping.Day);
        var before = await ledger.QueryAsync(Tenant, from.AddDays(-1), from, SpendGrouping.Client);

        Assert.Equal(new SpendLedgerRow[] { new("alpha", 300, 2, 4, 6), new("beta", 400, 2, 12, 6) }, byClient);
        Assert.Equal(new SpendLedgerRow[] { new("embed", 0, 1, 7, 0), new("generate", 200, 1, 3, 4), new("messages", 500, 2, 6, 8) }, byKind);
        Assert.Equal(new SpendLedgerRow[] { new(CloudTarget, 700, 3, 9, 12), new(EdgeTarget, 0, 1, 7, 0) }, byTarget);
        Assert.Equal(700, byDay.Sum(r => r.CostMicros));
        Assert.All(byDay, r => Assert.True(DateOnly.TryParseExact(r.Key, "yyyy-MM-dd", out _), r.Key));
        Assert.Empty(before);
    }

    [Fact]
    public async Task Ledger_UpdateDeleteOrTruncateAsSuperuser_IsRefused()
    {
        const string Tenant = "append-only-tenant";
        var quota = Client.GetGrain<ITenantQuotaGrain>(Tenant);
        await quota.SetLimitsAsync(Budget(1_000));
        await CommitAsync(quota, "ao-1", 100);
        await using var dataSource = NpgsqlDataSource.Create(fixture.Cluster.ConnectionString);
        await using var connection = await dataSource.OpenConnectionAsync();
        Assert.True(await ScalarAsync<bool>(connection, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"));

        var update = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(connection, $"UPDATE outpost_spend_ledger SET cost_micros = 0 WHERE tenant_id = '{Tenant}'"));
        var delete = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(connection, $"DELETE FROM outpost_spend_ledger WHERE tenant_id = '{Tenant}'"));
        var truncate = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(connection, "TRUNCATE outpost_spend_ledger"));
        await ExecuteAsync(connection, "SET session_replication_role = replica");
        var replicaDelete = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(connection, $"DELETE FROM outpost_spend_ledger WHERE tenant_id = '{Tenant}'"));

        Assert.All(new[] { update, delete, truncate, replicaDelete }, e =>
        {
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, e.SqlState);
            Assert.Contains("append-only", e.MessageText, StringComparison.Ordinal);
        });
        Assert.Equal((1L, 100L), await LedgerTotalsAsync(fixture.Cluster.ConnectionString, Tenant));
    }

    private static async Task<SpendCharge> CommitAsync(
        ITenantQuotaGrain quota, string requestId, long cost, string client = "client-a", string kind = "messages", int inputTokens = 1, int outputTokens = 1)
    {
        var reservation = await quota.ReserveAsync(Paid(requestId, cost, client, kind));
        Assert.True(reservation.Granted, $"{requestId}: {reservation.Denial}");
        var charge = await quota.CommitAsync(reservation.ReservationId!, cost, inputTokens, outputTokens);
        Assert.Equal((SpendCommitOutcome.Committed, cost), (charge.Outcome, charge.ChargedMicros));
        return charge;
    }

    private async Task<long> CountReminderRowsAsync(string tenantId)
    {
        await using var dataSource = NpgsqlDataSource.Create(fixture.Cluster.ConnectionString);
        await using var command = dataSource.CreateCommand(
            "SELECT count(*) FROM orleansreminderstable WHERE remindername = @name AND grainid LIKE '%/' || @tenant");
        command.Parameters.AddWithValue("name", TenantQuotaGrain.RolloverReminderName);
        command.Parameters.AddWithValue("tenant", tenantId);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
