using Npgsql;
using Outpost.ServiceDefaults.Database;
using Outpost.ServiceDefaults.Schema;

namespace Outpost.Silo.Schema;

/// <summary>Applies the schema when the control silo starts. Safe when several silos start at once.</summary>
internal sealed class SchemaMigrationService(NpgsqlDataSource dataSource, ILogger<SchemaMigrator> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await new SchemaMigrator(dataSource.ConnectionString, logger).MigrateAsync(cancellationToken);
        }
        catch (NpgsqlException ex)
        {
            throw OutpostDatabase.Unreachable(dataSource, ex);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
