namespace Outpost.Grains.TenantQuotas;

/// <summary>A request to hold budget for one piece of work before it starts.</summary>
/// <param name="RequestId">
/// The caller's idempotency key: reserving the same id again while its reservation is open returns that reservation.
/// </param>
/// <param name="ClientId">The OAuth client the work is for (for client sub-budgets and chargeback).</param>
/// <param name="Kind">The task kind, e.g. <c>embed</c>, <c>generate</c>, <c>messages</c>, <c>execute</c>.</param>
/// <param name="Target">Where the work runs, e.g. <c>edge:dev-pi-1</c> or <c>cloud:claude-sonnet-4-5</c>.</param>
/// <param name="MaxCostMicros">The worst-case cost in micro-dollars; more than zero for paid work, zero for free work.</param>
/// <param name="Tokens">The worst-case model tokens, counted against the tokens-per-minute limit.</param>
/// <param name="Paid">Whether the work costs money at all; free work never touches money budgets.</param>
/// <param name="Ttl">How long the reservation is held; one that is neither committed nor released by then is released.</param>
[GenerateSerializer, Immutable, Alias("outpost.SpendReservationRequest")]
public sealed record SpendReservationRequest(
    [property: Id(0)] string RequestId,
    [property: Id(1)] string ClientId,
    [property: Id(2)] string Kind,
    [property: Id(3)] string Target,
    [property: Id(4)] long MaxCostMicros,
    [property: Id(5)] long Tokens,
    [property: Id(6)] bool Paid,
    [property: Id(7)] TimeSpan Ttl)
{
    /// <summary>The longest a reservation may be held.</summary>
    public static readonly TimeSpan MaxTtl = TimeSpan.FromDays(1);

    /// <summary>Returns the first problem with this request, or null when it is valid.</summary>
    public string? Validate()
    {
        if (string.IsNullOrWhiteSpace(RequestId))
        {
            return "requestId is required.";
        }

        if (string.IsNullOrWhiteSpace(ClientId))
        {
            return "clientId is required.";
        }

        if (string.IsNullOrWhiteSpace(Kind))
        {
            return "kind is required.";
        }

        if (string.IsNullOrWhiteSpace(Target))
        {
            return "target is required.";
        }

        if (Paid ? MaxCostMicros <= 0 : MaxCostMicros != 0)
        {
            return Paid ? "maxCostMicros must be more than zero for paid work." : "maxCostMicros must be zero for free work.";
        }

        if (Tokens < 0)
        {
            return "tokens must be zero or more.";
        }

        return Ttl <= TimeSpan.Zero || Ttl > MaxTtl ? $"ttl must be more than zero and at most {MaxTtl}." : null;
    }
}
