namespace Outpost.Grains.TenantQuotas;

/// <summary>
/// A tenant's budgets and limits, keyed by tenant id. A single activation serializes every change, which is what
/// lets later reservation accounting be exact under concurrency.
/// </summary>
[Alias("outpost.ITenantQuotaGrain")]
public interface ITenantQuotaGrain : IGrainWithStringKey
{
    /// <summary>Replaces the tenant's limits. Throws <see cref="ArgumentException"/> when they are invalid.</summary>
    [Alias("SetLimitsAsync")]
    Task SetLimitsAsync(TenantLimits limits);

    /// <summary>The tenant's limits, or null when none were set.</summary>
    [Alias("GetLimitsAsync")]
    Task<TenantLimits?> GetLimitsAsync();
}
