namespace Outpost.Grains.TenantQuotas;

/// <summary>A granted reservation that is neither committed, released nor expired.</summary>
[GenerateSerializer, Immutable, Alias("outpost.OpenReservation")]
public sealed record OpenReservation(
    [property: Id(0)] string ReservationId,
    [property: Id(1)] SpendReservationRequest Request,
    [property: Id(2)] DateTimeOffset CreatedAt,
    [property: Id(3)] DateTimeOffset ExpiresAt)
{
    /// <summary>What this reservation holds against money budgets.</summary>
    public long HeldMicros => Request.Paid ? Request.MaxCostMicros : 0;
}
