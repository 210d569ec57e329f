using Microsoft.Extensions.Logging;

namespace Outpost.Grains.TenantQuotas;

public sealed partial class TenantQuotaGrain
{
    [LoggerMessage(EventId = 1, EventName = "SpendReservationExpired", Level = LogLevel.Information,
        Message = "Reservation {ReservationId} of tenant {TenantId} (request {RequestId}, client {ClientId}) expired unsettled; released {HeldMicros} micros")]
    private static partial void LogReservationExpired(ILogger logger, string tenantId, string reservationId, string requestId, string clientId, long heldMicros);

    [LoggerMessage(EventId = 2, EventName = "SpendChargeCapped", Level = LogLevel.Warning,
        Message = "Commit of reservation {ReservationId} of tenant {TenantId} reported {ActualCostMicros} micros against {HeldMicros} reserved; charged {ChargedMicros}, what the budgets could absorb")]
    private static partial void LogChargeCapped(ILogger logger, string tenantId, string reservationId, long actualCostMicros, long chargedMicros, long heldMicros);

    [LoggerMessage(EventId = 3, EventName = "SpendPeriodRolledOver", Level = LogLevel.Information,
        Message = "Tenant {TenantId} moved from the period starting {PreviousStart:o} to the one starting {PeriodStart:o}; {CommittedMicros} micros were committed in the previous one")]
    private static partial void LogPeriodRolledOver(ILogger logger, string tenantId, DateTimeOffset previousStart, DateTimeOffset periodStart, long committedMicros);

    [LoggerMessage(EventId = 4, EventName = "SpendReconciledFromLedger", Level = LogLevel.Warning,
        Message = "Reservation {ReservationId} of tenant {TenantId} was in the spend ledger ({CostMicros} micros) but still open in state; counted it as committed")]
    private static partial void LogReconciled(ILogger logger, string tenantId, string reservationId, long costMicros);

    [LoggerMessage(EventId = 5, EventName = "SpendStateWriteFailed", Level = LogLevel.Warning,
        Message = "Writing the quota state of tenant {TenantId} failed; the activation will reload it from storage")]
    private static partial void LogStateWriteFailed(ILogger logger, Exception exception, string tenantId);

    [LoggerMessage(EventId = 6, EventName = "RolloverReminderDeferred", Level = LogLevel.Warning,
        Message = "The period rollover reminder of tenant {Tenant} could not be registered yet; retrying with the next flush")]
    private static partial void LogRolloverReminderDeferred(ILogger logger, Exception exception, string tenant);
}
