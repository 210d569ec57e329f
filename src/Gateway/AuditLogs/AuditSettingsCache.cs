using System.Collections.Concurrent;
using Outpost.AuditLog.Storage;

namespace Outpost.Gateway.AuditLogs;

/// <summary>
/// Tenants' audit settings, read from PostgreSQL and kept for <see cref="Lifetime"/>: whether to store bodies is asked
/// on every request. A change made through the admin API applies at once on the gateway that made it.
/// </summary>
public sealed class AuditSettingsCache(AuditStore store, TimeProvider time)
{
    /// <summary>How long a tenant's settings are reused before they are read again.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, (AuditSettings Settings, DateTimeOffset ReadAt)> _settings = new(StringComparer.Ordinal);

    public async ValueTask<AuditSettings> GetAsync(string tenant, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_settings.TryGetValue(tenant, out var cached) && now - cached.ReadAt < Lifetime)
        {
            return cached.Settings;
        }

        var settings = await store.GetSettingsAsync(tenant, cancellationToken);
        _settings[tenant] = (settings, now);
        return settings;
    }

    public async Task SetAsync(string tenant, AuditSettings settings, CancellationToken cancellationToken)
    {
        await store.SetSettingsAsync(tenant, settings, cancellationToken);
        _settings[tenant] = (settings, time.GetUtcNow());
    }
}
