using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Outpost.ServiceDefaults.Database;

/// <summary>Checks the database before anything else starts, so a bad connection fails fast and clearly.</summary>
internal sealed class DatabasePreflight(NpgsqlDataSource dataSource) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        OutpostDatabase.EnsureReachableAsync(dataSource, cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
