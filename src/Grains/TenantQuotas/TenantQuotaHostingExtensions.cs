using Microsoft.Extensions.Hosting;
using Outpost.Spending;

namespace Outpost.Grains.TenantQuotas;

public static class TenantQuotaHostingExtensions
{
    /// <summary>What a control silo needs to host tenants' quota grains: the spend ledger their commits append to.</summary>
    public static IHostApplicationBuilder AddTenantQuotas(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddSpendLedger();
        return builder;
    }
}
