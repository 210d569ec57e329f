namespace Outpost.Grains.TenantQuotas;

/// <summary>How often a tenant's budget starts afresh.</summary>
public enum BudgetPeriod
{
    /// <summary>Resets at the start of every calendar month (UTC).</summary>
    Monthly = 0,

    /// <summary>Resets at the start of every day (UTC).</summary>
    Daily = 1,
}
