namespace Outpost.Grains.TenantQuotas;

/// <summary>
/// The rules of a tenant's quota, over its state and its rate window, with no storage, clock or grain: whether a
/// reservation is granted (budgets first, then the per-minute rates), what a commit may charge, and what is left. The
/// grain decides when they run and makes the result durable; this class decides what they say.
/// </summary>
internal sealed class SpendRules(TenantQuotaState quota, RateWindow rates)
{
    /// <summary>Whether <paramref name="request"/> may be reserved now, and if not why and for how long.</summary>
    public (SpendDenial Denial, TimeSpan? RetryAfter) Decide(SpendReservationRequest request, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (quota.Limits is not { } limits)
        {
            return (request.Paid ? SpendDenial.NoLimits : SpendDenial.None, null);
        }

        // Budgets first: waiting out a rate window does not help a request the budget refuses.
        // Free work is held to the budget only when the tenant has one and stops all work at it.
        if ((request.Paid || (!limits.EdgeContinuesOverBudget && limits.BudgetMicros > 0)) && BudgetDenial(limits, request) is var budget and not SpendDenial.None)
        {
            return (budget, null);
        }

        if (rates.RequestWait(limits.RequestsPerMinute, now) is { } requestWait)
        {
            return (SpendDenial.RequestRateExceeded, requestWait);
        }

        if (rates.TokenWait(limits.TokensPerMinute, request.Tokens, now) is { } tokenWait)
        {
            return (SpendDenial.TokenRateExceeded, tokenWait == TimeSpan.MaxValue ? null : tokenWait);
        }

        return (SpendDenial.None, null);
    }

    /// <summary>
    /// What a commit charges: the actual cost, up to the reservation's own hold plus whatever its budgets have left
    /// that no other reservation holds (the least of that over the tenant, client and kind budgets). With the limits
    /// unchanged since the reservation, an actual cost within the reserved maximum is always charged in full.
    /// </summary>
    public long ChargeFor(OpenReservation reservation, long actualCostMicros)
    {
        ArgumentNullException.ThrowIfNull(reservation);
        if (!reservation.Request.Paid)
        {
            return 0;
        }

        if (quota.Limits is not { } limits)
        {
            return Math.Min(actualCostMicros, reservation.HeldMicros);
        }

        var held = reservation.HeldMicros;
        var client = reservation.Request.ClientId;
        var kind = reservation.Request.Kind;
        var room = Headroom(limits.BudgetMicros, quota.CommittedMicros, Reserved(static _ => true) - held);
        if (limits.ClientBudgetsMicros?.TryGetValue(client, out var clientBudget) == true)
        {
            room = Math.Min(room, Headroom(clientBudget, quota.ClientCommittedMicros.GetValueOrDefault(client), Reserved(r => r.Request.ClientId == client) - held));
        }

        if (limits.KindBudgetsMicros?.TryGetValue(kind, out var kindBudget) == true)
        {
            room = Math.Min(room, Headroom(kindBudget, quota.KindCommittedMicros.GetValueOrDefault(kind), Reserved(r => r.Request.Kind == kind) - held));
        }

        return Math.Clamp(actualCostMicros, 0, Math.Max(room, 0));
    }

    /// <summary>Adds a charge to the period's totals: the tenant's, its client's and its kind's.</summary>
    public void AddCommitted(string clientId, string kind, long micros)
    {
        if (micros == 0)
        {
            return;
        }

        quota.CommittedMicros += micros;
        quota.ClientCommittedMicros[clientId] = quota.ClientCommittedMicros.GetValueOrDefault(clientId) + micros;
        quota.KindCommittedMicros[kind] = quota.KindCommittedMicros.GetValueOrDefault(kind) + micros;
    }

    /// <summary>What the open reservations that match <paramref name="predicate"/> hold against money budgets.</summary>
    public long Reserved(Func<OpenReservation, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        long total = 0;
        foreach (var reservation in quota.Reservations.Values)
        {
            if (predicate(reservation))
            {
                total += reservation.HeldMicros;
            }
        }

        return total;
    }

    /// <summary>The budget minus committed and reserved spend; zero with no limits.</summary>
    public long RemainingMicros =>
        quota.Limits is { } limits ? Math.Max(0, Headroom(limits.BudgetMicros, quota.CommittedMicros, Reserved(static _ => true))) : 0;

    /// <summary>Whether committed plus reserved spend has reached the soft limit's share of the budget.</summary>
    public bool SoftLimitReached =>
        quota.Limits is { } limits
        && (Int128)(quota.CommittedMicros + Reserved(static _ => true)) * 100 >= (Int128)limits.BudgetMicros * limits.SoftLimitPercent;

    /// <summary>Budget minus committed minus reserved, without overflow.</summary>
    public static long Headroom(long budget, long committed, long reserved) =>
        (long)Int128.Clamp((Int128)budget - committed - reserved, long.MinValue, long.MaxValue);

    private SpendDenial BudgetDenial(TenantLimits limits, SpendReservationRequest request)
    {
        // Paid work needs room for its worst case; free work (asked only when the tenant stops it at the limit)
        // needs the budget not to be used up.
        var needed = request.Paid ? request.MaxCostMicros : 1;
        if (Headroom(limits.BudgetMicros, quota.CommittedMicros, Reserved(static _ => true)) < needed)
        {
            return SpendDenial.BudgetExhausted;
        }

        var client = request.ClientId;
        if (limits.ClientBudgetsMicros?.TryGetValue(client, out var clientBudget) == true
            && Headroom(clientBudget, quota.ClientCommittedMicros.GetValueOrDefault(client), Reserved(r => r.Request.ClientId == client)) < needed)
        {
            return SpendDenial.ClientBudgetExhausted;
        }

        var kind = request.Kind;
        if (limits.KindBudgetsMicros?.TryGetValue(kind, out var kindBudget) == true
            && Headroom(kindBudget, quota.KindCommittedMicros.GetValueOrDefault(kind), Reserved(r => r.Request.Kind == kind)) < needed)
        {
            return SpendDenial.KindBudgetExhausted;
        }

        return SpendDenial.None;
    }
}
