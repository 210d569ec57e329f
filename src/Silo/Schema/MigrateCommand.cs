using Npgsql;
using Outpost.ServiceDefaults.Database;
using Outpost.ServiceDefaults.Schema;

namespace Outpost.Silo.Schema;

/// <summary><c>migrate</c>: applies the schema and exits, for deployments that migrate as a separate step.</summary>
internal static class MigrateCommand
{
    public const string Name = "migrate";

    public static async Task RunAsync(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(args);
        builder.Logging.ClearProviders();
        var dataSource = builder.AddOutpostDatabase();
        try
        {
            var result = await new SchemaMigrator(dataSource.ConnectionString, Microsoft.Extensions.Logging.Abstractions.NullLogger<SchemaMigrator>.Instance)
                .MigrateAsync();
            foreach (var version in result.Applied)
            {
                Console.WriteLine($"applied {version}");
            }

            Console.WriteLine($"schema up to date ({result.Applied.Count} applied, {result.AlreadyApplied.Count} already present)");
        }
        catch (NpgsqlException ex)
        {
            throw OutpostDatabase.Unreachable(dataSource, ex);
        }
    }
}
