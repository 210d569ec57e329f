using Outpost.Grains.TenantQuotas;

namespace Outpost.Gateway.Spending;

/// <summary>
/// A request's reservation: committed with the actual cost when the work is done, released otherwise (disposing an
/// uncommitted ticket releases it, so a failed request never keeps budget).
/// </summary>
public sealed class SpendTicket : IAsyncDisposable
{
    private readonly ITenantQuotaGrain? _quota;
    private readonly AuditLogs.AuditFeature? _audit;
    private bool _settled;

    internal SpendTicket(ITenantQuotaGrain? quota, SpendReservation? reservation, SpendEstimate estimate, AuditLogs.AuditFeature? audit = null)
    {
        _quota = quota;
        _audit = audit;
        Reservation = reservation;
        Estimate = estimate;
        _settled = reservation?.ReservationId is null;
    }

    /// <summary>Null for free edge work, which holds no budget.</summary>
    public SpendReservation? Reservation { get; }

    public SpendEstimate Estimate { get; }

    /// <summary>Charges the actual cost (at most the budget allows; see the quota grain) and returns what was charged.</summary>
    public async Task<SpendCharge?> CommitAsync(long actualCostMicros, int inputTokens, int outputTokens)
    {
        if (_settled || _quota is null || Reservation?.ReservationId is not { } id)
        {
            return null;
        }

        _settled = true;
        var charge = await _quota.CommitAsync(id, actualCostMicros, inputTokens, outputTokens);
        if (_audit is not null)
        {
            // The audit event carries the charge even when the response's headers went out before it was known.
            _audit.CostMicros = charge?.ChargedMicros ?? 0;
        }

        return charge;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_settled && _quota is not null && Reservation?.ReservationId is { } id)
        {
            _settled = true;
            await _quota.ReleaseAsync(id);
        }
    }
}
