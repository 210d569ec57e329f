using System.Globalization;
using Microsoft.Extensions.Options;
using Outpost.Gateway.Diagnostics;
using Outpost.Gateway.Errors;
using Outpost.Gateway.Security;
using Outpost.Grains.TenantQuotas;

namespace Outpost.Gateway.Spending;

/// <summary>
/// Reserves a request's worst-case cost in its tenant's quota grain before the work starts, and refuses it with 402
/// (budget) or 429 (tenant rate) when the grain says no. The grain serializes every reservation, so no burst of
/// concurrent requests can spend past the budget. Free edge work (zero price) reserves nothing, but still says what a
/// tenant with a budget has left (<see cref="BudgetRemainingCache"/>).
/// </summary>
public sealed class SpendGuard(IClusterClient cluster, IOptions<PricingOptions> pricing, IOptions<LimitsOptions> limitOptions, BudgetRemainingCache budgets)
{
    public const string CostHeader = "X-Outpost-Cost";
    public const string RemainingHeader = "X-Outpost-Budget-Remaining";
    public const string TargetHeader = "X-Outpost-Target";

    /// <summary>The least an unsettled reservation holds budget.</summary>
    private static readonly TimeSpan MinimumReservationTtl = TimeSpan.FromMinutes(15);

    /// <summary>What a commit may lag behind the request's end (the grain call, a retry of it).</summary>
    private static readonly TimeSpan SettleMargin = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long a reservation holds budget: longer than any request may run. Every request, streams included, ends by
    /// <c>Limits:RequestTimeout</c> (upstream retries run inside it), so a reservation outlives it by a margin for the
    /// commit; it is never released under work that is still running and then charged zero.
    /// </summary>
    public static TimeSpan ReservationTtl(TimeSpan requestTimeout)
    {
        var ttl = requestTimeout + SettleMargin;
        return ttl < MinimumReservationTtl ? MinimumReservationTtl : ttl > SpendReservationRequest.MaxTtl ? SpendReservationRequest.MaxTtl : ttl;
    }

    public PricingOptions Prices => pricing.Value;

    public async Task<SpendTicket> ReserveAsync(HttpContext context, SpendEstimate estimate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(estimate);
        var caller = CallerContext.From(context.User);
        if (estimate.MaxCostMicros == 0 && !estimate.IsCloud)
        {
            var (left, rateLimited) = await budgets.LookupAsync(caller.Tenant, cancellationToken);
            if (left is { } remaining)
            {
                context.Response.Headers[RemainingHeader] = remaining.ToString(CultureInfo.InvariantCulture);
            }

            // Free work holds no budget, but a tenant's rate limits count it like any other work.
            if (!rateLimited)
            {
                return new SpendTicket(null, null, estimate);
            }
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var quota = cluster.GetGrain<ITenantQuotaGrain>(caller.Tenant);
        TenantLimits? limits = null;
        if (estimate.IsCloud)
        {
            limits = await quota.GetLimitsAsync().WaitAsync(cancellationToken);
            if (limits is not { CloudFallbackAllowed: true })
            {
                throw new ProblemException(
                    StatusCodes.Status402PaymentRequired, "cloud-not-allowed", "Cloud models not allowed",
                    $"Tenant '{caller.Tenant}' has not opted in to paid cloud models; the request was not sent upstream.");
            }
        }

        var request = new SpendReservationRequest(
            Guid.NewGuid().ToString("N"), caller.ClientId, estimate.Kind, estimate.Target, estimate.MaxCostMicros, estimate.MaxTokens,
            Paid: estimate.MaxCostMicros > 0, ReservationTtl(limitOptions.Value.RequestTimeout));
        var reservation = await quota.ReserveAsync(request).WaitAsync(cancellationToken);
        if (!reservation.Granted && !estimate.IsCloud && reservation.Denial is SpendDenial.BudgetExhausted or SpendDenial.ClientBudgetExhausted or SpendDenial.KindBudgetExhausted
            && await quota.GetLimitsAsync().WaitAsync(cancellationToken) is { EdgeContinuesOverBudget: true })
        {
            // Over budget, the tenant lets edge work go on at zero marginal cost: it runs free, counted for rates only.
            reservation = await quota.ReserveAsync(request with { RequestId = Guid.NewGuid().ToString("N"), MaxCostMicros = 0, Paid = false })
                .WaitAsync(cancellationToken);
        }

        if (!reservation.Granted)
        {
            throw Refused(reservation, caller.Tenant);
        }

        // Past the soft limit, work that only the cloud can do needs the tenant's explicit consent to keep paying.
        if (estimate.IsCloud && reservation.SoftLimitReached && limits is not { AllowCloudOverSoftLimit: true })
        {
            await quota.ReleaseAsync(reservation.ReservationId!);
            throw new ProblemException(
                StatusCodes.Status402PaymentRequired, "soft-limit-reached", "Soft limit reached",
                $"Tenant '{caller.Tenant}' is past its soft spending limit; cloud-only requests need allowCloudOverSoftLimit. It resets at {reservation.PeriodResetsAt:yyyy-MM-ddTHH:mm:ssZ}.");
        }

        if (estimate.MaxCostMicros > 0 || estimate.IsCloud)
        {
            // (Free work's header was set above from the cache; its reservation only counted it for the rates.)
            context.Response.Headers[RemainingHeader] = reservation.RemainingMicros.ToString(CultureInfo.InvariantCulture);
            budgets.Remember(caller.Tenant, reservation.RemainingMicros);
        }

        // What the budget check and reservation added to this request, for operators and benchmarks.
        ServerTiming.Add(context, "quota", System.Diagnostics.Stopwatch.GetElapsedTime(started));
        return new SpendTicket(quota, reservation, estimate, AuditLogs.AuditFeature.Of(context));
    }

    /// <summary>Writes the charge to the response headers, when they have not been sent yet.</summary>
    public static void WriteCharge(HttpContext context, SpendCharge? charge, string target)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.Headers[CostHeader] = (charge?.ChargedMicros ?? 0).ToString(CultureInfo.InvariantCulture);
        context.Response.Headers[TargetHeader] = target;
        if (charge is not null)
        {
            context.Response.Headers[RemainingHeader] = charge.RemainingMicros.ToString(CultureInfo.InvariantCulture);
        }
    }

    private static ProblemException Refused(SpendReservation reservation, string tenant)
    {
        var resets = reservation.PeriodResetsAt.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        return reservation.Denial switch
        {
            SpendDenial.RequestRateExceeded or SpendDenial.TokenRateExceeded => new ProblemException(
                StatusCodes.Status429TooManyRequests, "tenant-rate-limited", "Tenant rate limit",
                $"Tenant '{tenant}' is over its {(reservation.Denial == SpendDenial.RequestRateExceeded ? "requests" : "tokens")}-per-minute limit.",
                reservation.RetryAfter ?? TimeSpan.FromSeconds(5)),
            SpendDenial.NoLimits => new ProblemException(
                StatusCodes.Status402PaymentRequired, "no-budget", "No budget",
                $"Tenant '{tenant}' has no budget set, so paid work is refused."),
            SpendDenial.ClientBudgetExhausted => new ProblemException(
                StatusCodes.Status402PaymentRequired, "client-budget-exhausted", "Client budget exhausted",
                $"This client's budget for the period is spent; it resets at {resets}."),
            SpendDenial.KindBudgetExhausted => new ProblemException(
                StatusCodes.Status402PaymentRequired, "kind-budget-exhausted", "Budget for this kind of work exhausted",
                $"The tenant's budget for this kind of work is spent; it resets at {resets}."),
            _ => new ProblemException(
                StatusCodes.Status402PaymentRequired, "budget-exhausted", "Budget exhausted",
                $"Tenant '{tenant}' has spent its budget for the period; it resets at {resets}."),
        };
    }
}
