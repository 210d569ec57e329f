using Npgsql;
using Outpost.Grains.TenantQuotas;

namespace Outpost.Grains.Tests.TenantQuotas;

/// <summary>Builders and probes shared by the quota tests.</summary>
internal static class SpendRequests
{
    public const string CloudTarget = "cloud:claude-sonnet-4-5";
    public const string EdgeTarget = "edge:dev-pi-1";

    public static readonly TimeSpan LongTtl = TimeSpan.FromHours(1);

    public static SpendReservationRequest Paid(string requestId, long maxCostMicros, string client = "client-a", string kind = "messages", long tokens = 100, TimeSpan? ttl = null) =>
        new(requestId, client, kind, CloudTarget, maxCostMicros, tokens, Paid: true, ttl ?? LongTtl);

    public static SpendReservationRequest Free(string requestId, string client = "client-a", string kind = "embed", long tokens = 10, TimeSpan? ttl = null) =>
        new(requestId, client, kind, EdgeTarget, 0, tokens, Paid: false, ttl ?? LongTtl);

    public static TenantLimits Budget(long budgetMicros) => new(budgetMicros, BudgetPeriod.Monthly, RequestsPerMinute: 0, TokensPerMinute: 0);

    /// <summary>Rows and summed charges of a tenant's ledger, read straight from the database.</summary>
    public static async Task<(long Rows, long CostMicros)> LedgerTotalsAsync(string connectionString, string tenantId)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand(
            "SELECT count(*), COALESCE(sum(cost_micros), 0)::bigint FROM outpost_spend_ledger WHERE tenant_id = @tenant");
        command.Parameters.AddWithValue("tenant", tenantId);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>Polls until <paramref name="condition"/> holds; fails after <paramref name="limit"/> (a bound, not a timing).</summary>
    public static async Task<SpendStatus> WaitForStatusAsync(ITenantQuotaGrain quota, Func<SpendStatus, bool> condition, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        var status = await quota.GetStatusAsync();
        while (!condition(status))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The quota status did not reach the expected state within {limit}; last: {status}.");
            }

            await Task.Delay(200);
            status = await quota.GetStatusAsync();
        }

        return status;
    }
}
