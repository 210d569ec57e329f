namespace Outpost.Grains.TenantQuotas;

/// <summary>The result of committing a reservation.</summary>
/// <param name="ReservationId">The reservation committed.</param>
/// <param name="Outcome">Whether this call charged, found an earlier charge, or found nothing to charge.</param>
/// <param name="ChargedMicros">
/// What was charged against the budgets: the actual cost, capped at what the budgets could still absorb (the
/// reservation's own hold plus unreserved budget), so committed spend never exceeds a budget. Zero for free work.
/// </param>
/// <param name="ActualCostMicros">The cost the caller reported, recorded in the ledger as it was.</param>
/// <param name="Capped">True when the charge is less than the actual cost because the budgets could not absorb it.</param>
/// <param name="RemainingMicros">The tenant's budget minus committed and reserved spend, after this commit.</param>
/// <param name="SoftLimitReached">Whether committed plus reserved spend has reached the soft limit.</param>
/// <param name="PeriodResetsAt">When the current budget period ends.</param>
[GenerateSerializer, Immutable, Alias("outpost.SpendCharge")]
public sealed record SpendCharge(
    [property: Id(0)] string ReservationId,
    [property: Id(1)] SpendCommitOutcome Outcome,
    [property: Id(2)] long ChargedMicros,
    [property: Id(3)] long ActualCostMicros,
    [property: Id(4)] bool Capped,
    [property: Id(5)] long RemainingMicros,
    [property: Id(6)] bool SoftLimitReached,
    [property: Id(7)] DateTimeOffset PeriodResetsAt);
