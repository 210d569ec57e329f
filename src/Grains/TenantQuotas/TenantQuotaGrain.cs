using Microsoft.Extensions.Logging;
using Outpost.Grains.Placement;
using Outpost.Spending;

namespace Outpost.Grains.TenantQuotas;

/// <summary>
/// A tenant's budgets and spend. Exactness comes from the actor model: the grain is not reentrant, so each call runs
/// to completion before the next starts, and a reservation is checked and recorded in one turn. The invariant kept is committed + reserved &lt;= budget at every reservation, and committed &lt;= budget
/// always: a commit above its reservation is charged only what the budgets can still absorb.
/// </summary>
/// <remarks>
/// Durability: charges, limits and settlements are written to grain storage before they are acknowledged; a commit
/// first appends its ledger row (unique per reservation) and then writes state, so after a crash between the two the
/// next activation finds the row and counts it, and a retried commit is answered from the ledger instead of charging
/// twice. Reservations and releases are kept in memory until the next write (at the latest on deactivation), which
/// takes the storage write off the request path: a silo crash releases the reservations made since, and their commits
/// then charge nothing, so spend can fall short of the budget but never pass it. Open reservations survive clean
/// restarts and expire after their TTL: by a grain timer while active, and by a check at activation and at every call. Periods roll over at every call and on a reminder, so an idle tenant's counters reset too.
/// </remarks>
[ControlPlane]
public sealed partial class TenantQuotaGrain(
    [PersistentState(StateNames.TenantQuota, StorageNames.Default)] IPersistentState<TenantQuotaState> state,
    SpendLedger ledger,
    TimeProvider time,
    ILogger<TenantQuotaGrain> logger) : Grain, ITenantQuotaGrain, IRemindable
{
    /// <summary>The reminder that rolls an idle tenant's period over.</summary>
    public const string RolloverReminderName = "period-rollover";

    // Reminders tick at least a minute apart; rollover is checked at every call anyway, so a few minutes late is fine.
    private static readonly TimeSpan RolloverCheckInterval = TimeSpan.FromMinutes(5);

    // Timers fire a little early or late; waking just after the expiry avoids a spin of empty ticks.
    private static readonly TimeSpan ExpirySlack = TimeSpan.FromMilliseconds(50);

    private readonly SpendLedger _ledger = ledger;
    private readonly RateWindow _rates = new();
    private IGrainTimer? _expiryTimer;

    // Whether reservations changed since the state was last written.
    private bool _unsaved;

    // Whether the rollover reminder still has to be registered (the reminder service was not ready).
    private bool _rolloverReminderPending;

    // How long committed totals and reservations may wait in memory before they are written.
    private static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(5);

    // Reservations whose commit is waiting for the ledger: never expired from under it.
    private readonly HashSet<string> _committing = new(StringComparer.Ordinal);

    private string TenantId => this.GetPrimaryKeyString();

    private TenantQuotaState Quota => state.State;

    // The rules over the state as it is now (a read of storage replaces the state object).
    private SpendRules Rules => new(Quota, _rates);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _expiryTimer = this.RegisterGrainTimer(
            OnExpiryTimerAsync,
            new GrainTimerCreationOptions(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan) { Interleave = false, KeepAlive = false });

        this.RegisterGrainTimer(
            OnFlushTimerAsync,
            new GrainTimerCreationOptions(FlushInterval, FlushInterval) { Interleave = false, KeepAlive = false });

        var changed = await ReconcileWithLedgerAsync(cancellationToken);
        if (changed)
        {
            await WriteStateAsync();
        }

        ScheduleExpiry();
        await base.OnActivateAsync(cancellationToken);
    }

    public async Task SetLimitsAsync(TenantLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        if (limits.Validate() is { } problem)
        {
            throw new ArgumentException(problem, nameof(limits));
        }

        var now = time.GetUtcNow();
        Settle(now);

        // Own copies: a caller in the same process could otherwise change the maps after the check.
        Quota.Limits = limits with
        {
            ClientBudgetsMicros = limits.ClientBudgetsMicros is { } clients ? new Dictionary<string, long>(clients) : null,
            KindBudgetsMicros = limits.KindBudgetsMicros is { } kinds ? new Dictionary<string, long>(kinds) : null,
        };
        Quota.UpdatedAt = now;
        AdvancePeriod(now);
        await WriteStateAsync();
        ScheduleExpiry();

        await RegisterRolloverReminderAsync();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Reservations made or released since the last write survive a clean shutdown or rebalancing.
        if (_unsaved)
        {
            await state.WriteStateAsync(cancellationToken);
        }

        await base.OnDeactivateAsync(reason, cancellationToken);
    }

    public Task<TenantLimits?> GetLimitsAsync() => Task.FromResult(Quota.Limits);

    public Task<SpendReservation> ReserveAsync(SpendReservationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Validate() is { } problem)
        {
            throw new ArgumentException(problem, nameof(request));
        }

        // No await anywhere in here: the whole check-and-hold is one turn, even though this method may interleave with
        // another call's wait for storage. What settling changed is written with the next write, like the hold itself.
        var now = time.GetUtcNow();
        if (Settle(now))
        {
            _unsaved = true;
            ScheduleExpiry();
        }

        var existing = Quota.Reservations.Values.FirstOrDefault(r => r.Request.RequestId == request.RequestId);
        if (existing is not null)
        {
            return existing.Request == request
                ? Task.FromResult(Granted(existing, now))
                : throw new ArgumentException($"requestId '{request.RequestId}' is already reserved for a different request.", nameof(request));
        }

        var (denial, retryAfter) = Rules.Decide(request, now);
        if (denial != SpendDenial.None)
        {
            return Task.FromResult(new SpendReservation(false, null, denial, Rules.RemainingMicros, Rules.SoftLimitReached, PeriodEnd(now), retryAfter));
        }

        // A reservation is held in memory and persisted with the next write (a commit, a settlement, deactivation): a
        // silo that crashes before then releases it, and its late commit finds nothing and charges nothing. Committed
        // spend can only fall short of the budget that way, never exceed it, and the request path pays no write here.
        var reservation = new OpenReservation($"rsv_{Guid.NewGuid():N}", request, now, now + request.Ttl);
        Quota.Reservations.Add(reservation.ReservationId, reservation);
        _unsaved = true;

        _rates.Add(reservation.ReservationId, request.Tokens, now);
        ScheduleExpiry();
        return Task.FromResult(Granted(reservation, now));
    }

    public async Task<SpendCharge> CommitAsync(string reservationId, long actualCostMicros, int inputTokens, int outputTokens)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reservationId);
        ArgumentOutOfRangeException.ThrowIfNegative(actualCostMicros);
        ArgumentOutOfRangeException.ThrowIfNegative(inputTokens);
        ArgumentOutOfRangeException.ThrowIfNegative(outputTokens);

        var now = time.GetUtcNow();
        await SettleAndWriteAsync(now);

        if (!Quota.Reservations.TryGetValue(reservationId, out var reservation))
        {
            var earlier = await _ledger.FindAsync(TenantId, [reservationId]);
            return earlier is [var entry]
                ? Charge(reservationId, SpendCommitOutcome.AlreadyCommitted, entry.CostMicros, entry.ActualCostMicros, now)
                : Charge(reservationId, SpendCommitOutcome.NotFound, 0, actualCostMicros, now);
        }

        var request = reservation.Request;

        // A reservation interleaving with this commit may settle expired holds; this one stays held until applied.
        _committing.Add(reservationId);
        SpendLedgerEntry stored;
        try
        {
            stored = await _ledger.AppendAsync(new SpendLedgerEntry(
                TenantId,
                request.ClientId,
                request.Kind,
                request.Target,
                request.RequestId,
                reservationId,
                Rules.ChargeFor(reservation, actualCostMicros),
                actualCostMicros,
                inputTokens,
                outputTokens,
                request.Paid,
                Quota.PeriodStart!.Value));
        }
        finally
        {
            _committing.Remove(reservationId);
        }

        // The ledger row is the durable record of the charge; the totals in state follow with the next write (at the
        // latest FlushInterval later). A crash before then loses nothing: activation counts the rows after the
        // watermark. When an earlier attempt reached the ledger, its row is the charge.
        var charged = stored.PeriodStart == Quota.PeriodStart ? stored.CostMicros : 0;
        Quota.Reservations.Remove(reservationId);
        Rules.AddCommitted(request.ClientId, request.Kind, charged);
        Quota.LedgerWatermark = Math.Max(Quota.LedgerWatermark ?? 0, stored.Id);
        _unsaved = true;

        _rates.Settle(reservationId, (long)stored.InputTokens + stored.OutputTokens);
        ScheduleExpiry();
        if (stored.CostMicros < stored.ActualCostMicros && request.Paid)
        {
            LogChargeCapped(logger, TenantId, reservationId, stored.ActualCostMicros, stored.CostMicros, reservation.HeldMicros);
        }

        return Charge(reservationId, SpendCommitOutcome.Committed, stored.CostMicros, stored.ActualCostMicros, now);
    }

    public async Task<bool> ReleaseAsync(string reservationId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reservationId);
        var now = time.GetUtcNow();
        await SettleAndWriteAsync(now);
        if (!Quota.Reservations.Remove(reservationId, out _))
        {
            return false;
        }

        _unsaved = true;

        // The work did not happen: its tokens no longer count, though the request does.
        _rates.Settle(reservationId, 0);
        ScheduleExpiry();
        return true;
    }

    public async Task<SpendStatus> GetStatusAsync()
    {
        var now = time.GetUtcNow();
        await SettleAndWriteAsync(now);
        var (start, end) = BudgetPeriods.Containing(Quota.Limits, now);
        return new SpendStatus(
            start,
            end,
            Quota.CommittedMicros,
            Rules.Reserved(static _ => true),
            Quota.Limits?.BudgetMicros ?? 0,
            Rules.SoftLimitReached,
            new Dictionary<string, long>(Quota.ClientCommittedMicros),
            new Dictionary<string, long>(Quota.KindCommittedMicros),
            Quota.Reservations.Count,
            Rules.RemainingMicros,
            Quota.Limits is { } limits && (limits.RequestsPerMinute > 0 || limits.TokensPerMinute > 0));
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == RolloverReminderName)
        {
            await SettleAndWriteAsync(time.GetUtcNow());
        }
    }

    private async Task OnExpiryTimerAsync(CancellationToken cancellationToken)
    {
        await SettleAndWriteAsync(time.GetUtcNow());
        ScheduleExpiry();
    }

    /// <summary>Rolls the period over and expires reservations past their TTL. Returns whether state changed.</summary>
    private bool Settle(DateTimeOffset now)
    {
        var changed = AdvancePeriod(now);
        foreach (var reservation in Quota.Reservations.Values.Where(r => r.ExpiresAt <= now && !_committing.Contains(r.ReservationId)).ToList())
        {
            Quota.Reservations.Remove(reservation.ReservationId);
            LogReservationExpired(logger, TenantId, reservation.ReservationId, reservation.Request.RequestId, reservation.Request.ClientId, reservation.HeldMicros);
            changed = true;
        }

        return changed;
    }

    private async Task SettleAndWriteAsync(DateTimeOffset now)
    {
        if (Settle(now))
        {
            await WriteStateAsync();
            ScheduleExpiry();
        }
    }

    /// <summary>
    /// Moves to the period containing <paramref name="now"/> under the current limits; a later period starts with
    /// nothing committed (the ledger keeps the history). Open reservations carry over and count in the new period.
    /// </summary>
    private bool AdvancePeriod(DateTimeOffset now)
    {
        var (start, _) = BudgetPeriods.Containing(Quota.Limits, now);
        if (Quota.PeriodStart == start)
        {
            return false;
        }

        if (Quota.PeriodStart is { } previous && start > previous)
        {
            LogPeriodRolledOver(logger, TenantId, previous, start, Quota.CommittedMicros);
            Quota.CommittedMicros = 0;
            Quota.ClientCommittedMicros.Clear();
            Quota.KindCommittedMicros.Clear();
        }

        Quota.PeriodStart = start;
        return true;
    }

    /// <summary>
    /// Counts what the ledger holds beyond the state: the rows after the watermark (commits whose state write never
    /// happened), settling their reservations. The period is settled first, so a row of the current period counts in
    /// it even when the rollover itself was not written.
    /// </summary>
    private async Task<bool> ReconcileWithLedgerAsync(CancellationToken cancellationToken)
    {
        var changed = Settle(time.GetUtcNow());
        if (Quota.LedgerWatermark is not { } watermark)
        {
            // State from before the watermark: every commit wrote state, so only open reservations can be behind.
            foreach (var entry in await _ledger.FindAsync(TenantId, Quota.Reservations.Keys.ToList(), cancellationToken))
            {
                if (Quota.Reservations.Remove(entry.ReservationId, out var reservation))
                {
                    Rules.AddCommitted(reservation.Request.ClientId, reservation.Request.Kind, entry.PeriodStart == Quota.PeriodStart ? entry.CostMicros : 0);
                    LogReconciled(logger, TenantId, entry.ReservationId, entry.CostMicros);
                }
            }

            Quota.LedgerWatermark = await _ledger.LastIdAsync(TenantId, cancellationToken);
            return true;
        }

        foreach (var entry in await _ledger.ReadSinceAsync(TenantId, watermark, cancellationToken))
        {
            Quota.Reservations.Remove(entry.ReservationId);
            Rules.AddCommitted(entry.ClientId, entry.Kind, entry.PeriodStart == Quota.PeriodStart ? entry.CostMicros : 0);
            Quota.LedgerWatermark = entry.Id;
            LogReconciled(logger, TenantId, entry.ReservationId, entry.CostMicros);
            changed = true;
        }

        return changed;
    }

    private async Task OnFlushTimerAsync(CancellationToken cancellationToken)
    {
        if (_unsaved)
        {
            await WriteStateAsync();
        }

        if (_rolloverReminderPending)
        {
            await RegisterRolloverReminderAsync();
        }
    }

    /// <summary>
    /// The reminder that rolls an idle tenant's period over. The limits are stored already, and every call rolls the
    /// period over too, so a reminder service still starting up (a cluster that has just formed) does not fail the
    /// call: the flush timer registers it later.
    /// </summary>
    private async Task RegisterRolloverReminderAsync()
    {
        try
        {
            await this.RegisterOrUpdateReminder(RolloverReminderName, RolloverCheckInterval, RolloverCheckInterval);
            _rolloverReminderPending = false;
        }
        catch (OrleansException ex)
        {
            _rolloverReminderPending = true;
            LogRolloverReminderDeferred(logger, ex, TenantId);
        }
    }

    private async Task WriteStateAsync()
    {
        // Cleared before the write: a reservation that interleaves while it is under way sets it again, and is
        // written next time even if this write's snapshot missed it.
        _unsaved = false;
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception ex)
        {
            _unsaved = true;
            // The write may or may not have landed, and the ETag is no longer known: start again from storage.
            LogStateWriteFailed(logger, ex, TenantId);
            DeactivateOnIdle();
            throw;
        }
    }

    private void ScheduleExpiry()
    {
        if (_expiryTimer is null)
        {
            return;
        }

        if (Quota.Reservations.Count == 0)
        {
            _expiryTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }

        var due = Quota.Reservations.Values.Min(r => r.ExpiresAt) - time.GetUtcNow();
        _expiryTimer.Change((due > TimeSpan.Zero ? due : TimeSpan.Zero) + ExpirySlack, Timeout.InfiniteTimeSpan);
    }

    private DateTimeOffset PeriodEnd(DateTimeOffset now) => BudgetPeriods.Containing(Quota.Limits, now).End;

    private SpendReservation Granted(OpenReservation reservation, DateTimeOffset now) =>
        new(true, reservation.ReservationId, SpendDenial.None, Rules.RemainingMicros, Rules.SoftLimitReached, PeriodEnd(now), ExpiresAt: reservation.ExpiresAt);

    private SpendCharge Charge(string reservationId, SpendCommitOutcome outcome, long charged, long actual, DateTimeOffset now) =>
        new(reservationId, outcome, charged, actual, charged < actual, Rules.RemainingMicros, Rules.SoftLimitReached, PeriodEnd(now));
}
