using Outpost.Grains.TenantQuotas;
using Xunit;

namespace Outpost.Grains.Tests.TenantQuotas;

/// <summary>The quota's reservation and charge rules on their own: no grain, no storage, a fixed clock.</summary>
public sealed class SpendRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Decide_NoLimits_PaidRefusedFreeGranted()
    {
        var rules = Rules(new TenantQuotaState());

        Assert.Equal(SpendDenial.NoLimits, rules.Decide(Request(100), Now).Denial);
        Assert.Equal(SpendDenial.None, rules.Decide(Request(0, paid: false), Now).Denial);
    }

    [Theory]
    [InlineData(600, 300, 100, SpendDenial.None)] // 1000 - 600 - 300 = 100 left, exactly the worst case
    [InlineData(600, 300, 101, SpendDenial.BudgetExhausted)]
    [InlineData(1000, 0, 1, SpendDenial.BudgetExhausted)]
    public void Decide_Budget_CountsCommittedAndReserved(long committed, long reserved, long cost, SpendDenial expected)
    {
        var state = State(new TenantLimits(1000, BudgetPeriod.Monthly, 0, 0), committed);
        Hold(state, "other", reserved);

        Assert.Equal(expected, Rules(state).Decide(Request(cost), Now).Denial);
    }

    [Fact]
    public void Decide_ClientAndKindBudgets_EachRefusesOnItsOwn()
    {
        var limits = new TenantLimits(
            1_000_000, BudgetPeriod.Monthly, 0, 0,
            ClientBudgetsMicros: new Dictionary<string, long> { ["ci"] = 500 },
            KindBudgetsMicros: new Dictionary<string, long> { ["generate"] = 300 });
        var state = State(limits, 0);
        state.ClientCommittedMicros["ci"] = 450;
        state.KindCommittedMicros["generate"] = 250;
        var rules = Rules(state);

        Assert.Equal(SpendDenial.ClientBudgetExhausted, rules.Decide(Request(60, client: "ci"), Now).Denial);
        Assert.Equal(SpendDenial.KindBudgetExhausted, rules.Decide(Request(60, kind: "generate"), Now).Denial);
        Assert.Equal(SpendDenial.None, rules.Decide(Request(60, client: "other", kind: "embed"), Now).Denial);
    }

    [Fact]
    public void Decide_FreeWorkOverBudget_StoppedOnlyWhenTheTenantSaysSo()
    {
        var continues = State(new TenantLimits(100, BudgetPeriod.Monthly, 0, 0, EdgeContinuesOverBudget: true), 100);
        var stops = State(new TenantLimits(100, BudgetPeriod.Monthly, 0, 0, EdgeContinuesOverBudget: false), 100);

        Assert.Equal(SpendDenial.None, Rules(continues).Decide(Request(0, paid: false), Now).Denial);
        Assert.Equal(SpendDenial.BudgetExhausted, Rules(stops).Decide(Request(0, paid: false), Now).Denial);
    }

    [Fact]
    public void Decide_BudgetBeforeRate_RateWaitWhenTheBudgetAllows()
    {
        var rates = new RateWindow();
        rates.Add("r1", 0, Now.AddSeconds(-50));
        rates.Add("r2", 0, Now.AddSeconds(-20));
        var broke = State(new TenantLimits(10, BudgetPeriod.Monthly, 2, 0), 10);
        var funded = State(new TenantLimits(1000, BudgetPeriod.Monthly, 2, 0), 0);

        // Waiting does not help a request the budget refuses, so the budget answers first.
        Assert.Equal((SpendDenial.BudgetExhausted, null), new SpendRules(broke, rates).Decide(Request(5), Now));

        // Two requests in the window, a limit of two: the oldest leaves in 10 s.
        Assert.Equal((SpendDenial.RequestRateExceeded, TimeSpan.FromSeconds(10)), new SpendRules(funded, rates).Decide(Request(5), Now));
    }

    [Fact]
    public void ChargeFor_WithinItsHold_ChargedInFull()
    {
        var state = State(new TenantLimits(1000, BudgetPeriod.Monthly, 0, 0), 0);
        var reservation = Hold(state, "mine", 400);
        Hold(state, "other", 600);

        Assert.Equal(350, Rules(state).ChargeFor(reservation, 350));
    }

    [Fact]
    public void ChargeFor_AboveItsHold_OnlyWhatNoOtherReservationHolds()
    {
        // Budget 1000: 200 committed, this hold 300, another 400, so 100 is free beyond this hold.
        var state = State(new TenantLimits(1000, BudgetPeriod.Monthly, 0, 0), 200);
        var reservation = Hold(state, "mine", 300);
        Hold(state, "other", 400);

        Assert.Equal(400, Rules(state).ChargeFor(reservation, 900));
    }

    [Fact]
    public void ChargeFor_ClientBudgetTighter_CapsTheCharge()
    {
        var limits = new TenantLimits(1_000_000, BudgetPeriod.Monthly, 0, 0, ClientBudgetsMicros: new Dictionary<string, long> { ["ci"] = 500 });
        var state = State(limits, 0);
        state.ClientCommittedMicros["ci"] = 300;
        var reservation = Hold(state, "mine", 100, client: "ci");

        Assert.Equal(200, Rules(state).ChargeFor(reservation, 10_000));
    }

    [Fact]
    public void ChargeFor_FreeReservation_ChargesNothing()
    {
        var state = State(new TenantLimits(1000, BudgetPeriod.Monthly, 0, 0), 0);
        var reservation = Hold(state, "free", 0, paid: false);

        Assert.Equal(0, Rules(state).ChargeFor(reservation, 500));
    }

    [Fact]
    public void RemainingAndSoftLimit_FollowCommittedAndReserved()
    {
        var state = State(new TenantLimits(1000, BudgetPeriod.Monthly, 0, 0, SoftLimitPercent: 80), 500);
        var rules = Rules(state);
        Assert.Equal(500, rules.RemainingMicros);
        Assert.False(rules.SoftLimitReached);

        Hold(state, "big", 300);

        Assert.Equal(200, rules.RemainingMicros);
        Assert.True(rules.SoftLimitReached);
    }

    [Fact]
    public void AddCommitted_CountsForTenantClientAndKind()
    {
        var state = State(new TenantLimits(1000, BudgetPeriod.Monthly, 0, 0), 0);
        var rules = Rules(state);

        rules.AddCommitted("ci", "embed", 30);
        rules.AddCommitted("ci", "generate", 20);

        Assert.Equal(50, state.CommittedMicros);
        Assert.Equal(50, state.ClientCommittedMicros["ci"]);
        Assert.Equal(20, state.KindCommittedMicros["generate"]);
    }

    [Fact]
    public void Headroom_ExtremeValues_NeverOverflows()
    {
        Assert.Equal(long.MinValue, SpendRules.Headroom(0, long.MaxValue, long.MaxValue));
        Assert.Equal(long.MaxValue, SpendRules.Headroom(long.MaxValue, 0, long.MinValue));
    }

    private static SpendRules Rules(TenantQuotaState state) => new(state, new RateWindow());

    private static TenantQuotaState State(TenantLimits limits, long committed) =>
        new() { Limits = limits, PeriodStart = Now.AddDays(-1), CommittedMicros = committed };

    private static OpenReservation Hold(TenantQuotaState state, string id, long micros, string client = "c", bool paid = true)
    {
        var reservation = new OpenReservation(id, Request(micros, paid, client) with { RequestId = "req-" + id }, Now, Now.AddMinutes(5));
        state.Reservations[id] = reservation;
        return reservation;
    }

    private static SpendReservationRequest Request(long cost, bool paid = true, string client = "c", string kind = "embed") =>
        new($"req-{Guid.NewGuid():N}", client, kind, "edge", cost, 10, paid, TimeSpan.FromMinutes(5));
}
