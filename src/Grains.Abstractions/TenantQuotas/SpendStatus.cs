namespace Outpost.Grains.TenantQuotas;

/// <summary>A tenant's spend in the current period.</summary>
/// <param name="PeriodStart">When the current period started.</param>
/// <param name="PeriodEnd">When it ends and committed spend resets.</param>
/// <param name="CommittedMicros">Spend committed in this period.</param>
/// <param name="ReservedMicros">Spend held by open paid reservations.</param>
/// <param name="BudgetMicros">The period's budget; zero when no limits are set.</param>
/// <param name="SoftLimitReached">Whether committed plus reserved spend has reached the soft limit.</param>
/// <param name="ClientCommittedMicros">Committed spend by client id.</param>
/// <param name="KindCommittedMicros">Committed spend by task kind.</param>
/// <param name="OpenReservations">Reservations neither committed, released nor expired, paid or free.</param>
/// <param name="RemainingMicros">The budget minus committed and reserved spend.</param>
/// <param name="RateLimited">Whether the tenant has a request or token rate limit (free work then counts against it too).</param>
[GenerateSerializer, Immutable, Alias("outpost.SpendStatus")]
public sealed record SpendStatus(
    [property: Id(0)] DateTimeOffset PeriodStart,
    [property: Id(1)] DateTimeOffset PeriodEnd,
    [property: Id(2)] long CommittedMicros,
    [property: Id(3)] long ReservedMicros,
    [property: Id(4)] long BudgetMicros,
    [property: Id(5)] bool SoftLimitReached,
    [property: Id(6)] IReadOnlyDictionary<string, long> ClientCommittedMicros,
    [property: Id(7)] IReadOnlyDictionary<string, long> KindCommittedMicros,
    [property: Id(8)] int OpenReservations = 0,
    [property: Id(9)] long RemainingMicros = 0,
    [property: Id(10)] bool RateLimited = false);
