using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Outpost.Spending;

public static class SpendingStorageExtensions
{
    /// <summary>
    /// The spend ledger (<see cref="SpendLedger"/>), which the control silo's quota grains append to and the gateway
    /// reports from. Needs the <see cref="Npgsql.NpgsqlDataSource"/> that the database setup registers.
    /// </summary>
    public static IHostApplicationBuilder AddSpendLedger(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<SpendLedger>();
        return builder;
    }
}
