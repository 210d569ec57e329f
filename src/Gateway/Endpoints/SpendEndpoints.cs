using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Outpost.Gateway.Contracts;
using Outpost.Gateway.Errors;
using Outpost.Gateway.Security;
using Outpost.Grains.TenantQuotas;
using Outpost.Identity;
using Outpost.Spending;

namespace Outpost.Gateway.Endpoints;

/// <summary>Chargeback: what a tenant spent, from the append-only ledger, and where its budget stands.</summary>
public static class SpendEndpoints
{
    public static IEndpointRouteBuilder MapSpendApi(this IEndpointRouteBuilder endpoints)
    {
        var spend = endpoints.MapGroup("/v1/spend").WithTags("Spend").RequireAuthorization(Scopes.SpendRead);
        spend.MapGet("/", GetSpendAsync)
            .WithName("GetSpend")
            .WithSummary("Reports committed spend from the ledger for a time range, grouped by client, kind, target or day.");
        return endpoints;
    }

    public static async Task<Ok<SpendReport>> GetSpendAsync(
        string? from, string? to, string? groupBy, ClaimsPrincipal user, SpendLedger ledger, IClusterClient cluster, CancellationToken cancellationToken)
    {
        var caller = CallerContext.From(user);
        var status = await cluster.GetGrain<ITenantQuotaGrain>(caller.Tenant).GetStatusAsync();
        var start = ParseTime(from, "from") ?? status.PeriodStart;
        var end = ParseTime(to, "to") ?? DateTimeOffset.UtcNow.AddSeconds(1);
        if (end <= start)
        {
            throw ProblemException.BadRequest("to must be later than from.");
        }

        var grouping = (groupBy ?? "kind") switch
        {
            "client" => SpendGrouping.Client,
            "kind" => SpendGrouping.Kind,
            "target" => SpendGrouping.Target,
            "day" => SpendGrouping.Day,
            _ => throw ProblemException.BadRequest("groupBy must be one of: client, kind, target, day."),
        };

        var rows = await ledger.QueryAsync(caller.Tenant, start, end, grouping, cancellationToken);
        return TypedResults.Ok(new SpendReport(
            caller.Tenant,
            start,
            end,
            groupBy ?? "kind",
            rows.Select(r => new SpendReportRow(r.Key, r.CostMicros, r.Requests, r.InputTokens, r.OutputTokens)).ToList(),
            rows.Sum(r => r.CostMicros),
            new SpendBudget(status.BudgetMicros, status.CommittedMicros, status.ReservedMicros, status.RemainingMicros, status.SoftLimitReached, status.PeriodStart, status.PeriodEnd)));
    }

    internal static DateTimeOffset? ParseTime(string? value, string name) =>
        value is null ? null
        : DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) ? parsed.ToUniversalTime()
        : throw ProblemException.BadRequest($"{name} must be an ISO 8601 time, e.g. 2026-11-01T00:00:00Z.");
}
