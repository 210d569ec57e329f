using Microsoft.Extensions.DependencyInjection.Extensions;
using Outpost.ServiceDefaults.Configuration;
using Outpost.Spending;

namespace Outpost.Gateway.Spending;

public static class SpendingExtensions
{
    /// <summary>Budgets and spend: the price list, the guard that reserves and settles each call, and the ledger reports read.</summary>
    public static WebApplicationBuilder AddSpending(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddValidatedOptions<PricingOptions>(PricingOptions.Section);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<BudgetRemainingCache>();
        builder.Services.AddSingleton<SpendGuard>();
        builder.AddSpendLedger();
        return builder;
    }
}
