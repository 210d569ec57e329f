
namespace Outpost.Gateway.Contracts;

/// <summary>The answer of <c>GET /v1/spend</c>.</summary>
public sealed record SpendReport(
    string Tenant, DateTimeOffset From, DateTimeOffset To, string GroupBy, IReadOnlyList<SpendReportRow> Data, long TotalMicros, SpendBudget Budget);
