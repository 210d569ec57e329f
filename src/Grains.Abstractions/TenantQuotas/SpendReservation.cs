namespace Outpost.Grains.TenantQuotas;

/// <summary>The answer to a <see cref="SpendReservationRequest"/>.</summary>
/// <param name="Granted">Whether the work may start.</param>
/// <param name="ReservationId">The id to commit or release, when granted.</param>
/// <param name="Denial">Why it was refused, or <see cref="SpendDenial.None"/>.</param>
/// <param name="RemainingMicros">The tenant's budget minus committed and reserved spend, after this reservation.</param>
/// <param name="SoftLimitReached">Whether committed plus reserved spend has reached the soft limit.</param>
/// <param name="PeriodResetsAt">When the current budget period ends.</param>
/// <param name="RetryAfter">For rate denials, how long until the request would fit; null when waiting cannot help.</param>
/// <param name="ExpiresAt">When an unsettled reservation is released, when granted.</param>
[GenerateSerializer, Immutable, Alias("outpost.SpendReservation")]
public sealed record SpendReservation(
    [property: Id(0)] bool Granted,
    [property: Id(1)] string? ReservationId,
    [property: Id(2)] SpendDenial Denial,
    [property: Id(3)] long RemainingMicros,
    [property: Id(4)] bool SoftLimitReached,
    [property: Id(5)] DateTimeOffset PeriodResetsAt,
    [property: Id(6)] TimeSpan? RetryAfter = null,
    [property: Id(7)] DateTimeOffset? ExpiresAt = null);
