namespace Outpost.Grains.TenantQuotas;

/// <summary>
/// A tenant's budgets, limits and spend, keyed by tenant id. A single non-reentrant activation serializes every call,
/// and each reservation is checked and recorded in one turn, so no interleaving of concurrent requests can push
/// committed plus reserved spend over a budget. Every change is persisted before it is acknowledged.
/// </summary>
[Alias("outpost.ITenantQuotaGrain")]
public interface ITenantQuotaGrain : IGrainWithStringKey
{
    /// <summary>Replaces the tenant's limits. Throws <see cref="ArgumentException"/> when they are invalid.</summary>
    [Alias("SetLimitsAsync")]
    Task SetLimitsAsync(TenantLimits limits);

    /// <summary>The tenant's limits, or null when none were set.</summary>
    [Alias("GetLimitsAsync")]
    Task<TenantLimits?> GetLimitsAsync();

    /// <summary>
    /// Holds the request's worst-case cost against the tenant's budget (and its client's and kind's sub-budgets) and
    /// counts it against the rate limits, or says why not. A tenant without limits is refused paid work and allowed
    /// free work. Throws <see cref="ArgumentException"/> when the request is invalid, or when its
    /// <see cref="SpendReservationRequest.RequestId"/> is held by an open reservation for a different request.
    /// Runs in one turn without waiting for storage, and may interleave with a commit that waits for the ledger: a
    /// reservation being committed still counts at its full hold until the commit applies, so the check stays exact.
    /// </summary>
    [Alias("ReserveAsync"), Orleans.Concurrency.AlwaysInterleave]
    Task<SpendReservation> ReserveAsync(SpendReservationRequest request);

    /// <summary>
    /// Settles a reservation with the work's actual cost and usage: writes the ledger row, then adds the charge to
    /// the period's committed spend and frees the rest of the hold. Safe to retry.
    /// </summary>
    [Alias("CommitAsync")]
    Task<SpendCharge> CommitAsync(string reservationId, long actualCostMicros, int inputTokens, int outputTokens);

    /// <summary>Frees a reservation whose work did not happen. Returns false when it was not open.</summary>
    [Alias("ReleaseAsync")]
    Task<bool> ReleaseAsync(string reservationId);

    /// <summary>The tenant's spend in the current period.</summary>
    [Alias("GetStatusAsync")]
    Task<SpendStatus> GetStatusAsync();
}
