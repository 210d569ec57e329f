using System.Collections.Concurrent;
using Outpost.Grains.TenantQuotas;

namespace Outpost.Gateway.Spending;

/// <summary>
/// What each tenant has left of its budget, for responses to free work, and whether it has rate limits (free work of
/// such a tenant is counted by the quota grain; of any other it reserves nothing). A value is at most
/// <see cref="Lifetime"/> old: it is refreshed from the grain at most that often per tenant and gateway, and every paid
/// reservation or charge through this gateway refreshes the budget for free.
/// </summary>
public sealed partial class BudgetRemainingCache(IClusterClient cluster, TimeProvider time, ILogger<BudgetRemainingCache> logger)
{
    /// <summary>How old a remembered value may be.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(1);

    /// <summary>How long a free request waits for the grain before it goes out without the header.</summary>
    private static readonly TimeSpan LookupTimeout = TimeSpan.FromMilliseconds(500);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>What <paramref name="tenant"/> has left, or null when it has no budget (or the grain did not answer).</summary>
    public async ValueTask<long?> GetAsync(string tenant, CancellationToken cancellationToken) =>
        (await LookupAsync(tenant, cancellationToken)).RemainingMicros;

    /// <summary>
    /// What <paramref name="tenant"/> has left (null without a budget) and whether it has a request or token rate limit,
    /// which free work counts against too; one lookup for both.
    /// </summary>
    public async ValueTask<(long? RemainingMicros, bool RateLimited)> LookupAsync(string tenant, CancellationToken cancellationToken) =>
        await GetEntryAsync(tenant, cancellationToken) is { } entry ? (entry.RemainingMicros, entry.RateLimited) : (null, false);

    private async ValueTask<Entry?> GetEntryAsync(string tenant, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_entries.TryGetValue(tenant, out var entry) && now - entry.ReadAt < Lifetime)
        {
            return entry;
        }

        try
        {
            var status = await cluster.GetGrain<ITenantQuotaGrain>(tenant).GetStatusAsync().WaitAsync(LookupTimeout, cancellationToken);
            var read = new Entry(status.BudgetMicros > 0 ? status.RemainingMicros : null, status.RateLimited, now);
            _entries[tenant] = read;
            return read;
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            // The header is information; the free work it would annotate must not fail or wait for it.
            LogLookupFailed(logger, ex, tenant);
            return entry;
        }
    }

    /// <summary>Takes what the quota grain just said (a reservation or a charge), so free work sees it at once.</summary>
    public void Remember(string tenant, long remainingMicros) =>
        _entries.AddOrUpdate(
            tenant,
            static (_, state) => new Entry(state.Remaining, false, state.Now),
            static (_, old, state) => old with { RemainingMicros = state.Remaining, ReadAt = state.Now },
            (Remaining: (long?)remainingMicros, Now: time.GetUtcNow()));

    /// <summary>Forgets a tenant's value, e.g. when its limits change.</summary>
    public void Forget(string tenant) => _entries.TryRemove(tenant, out _);

    [LoggerMessage(EventId = 1, EventName = "BudgetLookupFailed", Level = LogLevel.Debug, Message = "Budget of tenant {Tenant} not read for a free request")]
    private static partial void LogLookupFailed(ILogger logger, Exception exception, string tenant);

    private sealed record Entry(long? RemainingMicros, bool RateLimited, DateTimeOffset ReadAt);
}
