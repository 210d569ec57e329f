using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Outpost.Gateway.Contracts;
using Outpost.Gateway.Errors;
using Outpost.Gateway.Spending;
using Outpost.Grains.TenantQuotas;
using Outpost.Identity.Tenants;

namespace Outpost.Gateway.Endpoints;

/// <summary>A tenant's budget and limits: set by the operators (tenant <c>system</c>), read by the tenant's admins.</summary>
public static class TenantLimitsEndpoints
{
    public static RouteGroupBuilder MapTenantLimitsApi(this RouteGroupBuilder admin)
    {
        ArgumentNullException.ThrowIfNull(admin);
        admin.MapPut("/tenants/{tenant}/limits", SetLimitsAsync).WithName("SetTenantLimits").WithSummary("Sets a tenant's budget and limits.");
        admin.MapGet("/tenants/{tenant}/limits", GetLimitsAsync).WithName("GetTenantLimits").WithSummary("Gets a tenant's budget and limits.");
        return admin;
    }

    public static async Task<Ok<TenantLimitsResponse>> SetLimitsAsync(
        string tenant, TenantLimitsRequest request, ClaimsPrincipal user, TenantStore tenants, IClusterClient cluster, BudgetRemainingCache budgets, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        AdminEndpoints.RequireSystem(user, "Only system administrators set budgets.");
        await AdminEndpoints.RequireManagedTenantAsync(user, tenant, tenants, cancellationToken);
        var period = request.Period switch
        {
            null or "monthly" => BudgetPeriod.Monthly,
            "daily" => BudgetPeriod.Daily,
            _ => throw ProblemException.BadRequest("period must be 'monthly' or 'daily'."),
        };
        var limits = new TenantLimits(
            request.BudgetMicros,
            period,
            request.RequestsPerMinute,
            request.TokensPerMinute,
            request.SoftLimitPercent ?? 80,
            request.CloudFallbackAllowed,
            request.ClientBudgetsMicros,
            request.KindBudgetsMicros,
            request.ResetAtUtc ?? TimeSpan.Zero,
            request.EdgeContinuesOverBudget ?? true,
            request.AllowCloudOverSoftLimit);
        if (limits.Validate() is { } problem)
        {
            throw ProblemException.BadRequest(problem);
        }

        await cluster.GetGrain<ITenantQuotaGrain>(tenant).SetLimitsAsync(limits);

        // Free work through this gateway says what is left from the new budget at once, not a second later.
        budgets.Forget(tenant);
        return TypedResults.Ok(TenantLimitsResponse.From(limits));
    }

    public static async Task<Results<Ok<TenantLimitsResponse>, ProblemHttpResult>> GetLimitsAsync(
        string tenant, ClaimsPrincipal user, TenantStore tenants, IClusterClient cluster, CancellationToken cancellationToken)
    {
        await AdminEndpoints.RequireManagedTenantAsync(user, tenant, tenants, cancellationToken);
        var limits = await cluster.GetGrain<ITenantQuotaGrain>(tenant).GetLimitsAsync();
        return limits is null
            ? Problems.NotFound("limits-not-set", "No limits", $"Tenant '{tenant}' has no budget or limits set.")
            : TypedResults.Ok(TenantLimitsResponse.From(limits));
    }
}
