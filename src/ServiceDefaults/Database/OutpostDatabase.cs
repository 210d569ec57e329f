using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Outpost.ServiceDefaults.Configuration;

namespace Outpost.ServiceDefaults.Database;

/// <summary>The PostgreSQL database every Outpost process shares: cluster membership, grain state, reminders.</summary>
public static class OutpostDatabase
{
    /// <summary>The connection string's name under <c>ConnectionStrings</c>.</summary>
    public const string ConnectionStringName = "Outpost";

    /// <summary>The full configuration key, for messages.</summary>
    public const string ConnectionStringKey = "ConnectionStrings:" + ConnectionStringName;

    /// <summary>The ADO.NET invariant Orleans' providers load Npgsql by.</summary>
    public const string Invariant = "Npgsql";

    /// <summary>
    /// Reads and checks the connection string and registers one <see cref="NpgsqlDataSource"/> for the process.
    /// Throws <see cref="StartupConfigurationException"/> when it is missing or malformed.
    /// </summary>
    public static NpgsqlDataSource AddOutpostDatabase(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString(ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new StartupConfigurationException(
                $"{ConnectionStringKey} is missing: set it to a PostgreSQL connection string (environment variable ConnectionStrings__{ConnectionStringName}).");
        }

        NpgsqlDataSource dataSource;
        try
        {
            var dataSourceBuilder = new NpgsqlDataSourceBuilder(connectionString) { Name = "outpost" };
            // Orleans' providers take a connection string, not a data source: keep the password in it for them.
            dataSourceBuilder.ConnectionStringBuilder.PersistSecurityInfo = true;
            dataSource = dataSourceBuilder.Build();
        }
        catch (ArgumentException ex)
        {
            throw new StartupConfigurationException($"{ConnectionStringKey} is not a valid PostgreSQL connection string: {ex.Message}", ex);
        }

        builder.Services.AddSingleton(dataSource);
        return dataSource;
    }

    /// <summary>
    /// Opens one connection, so that an unreachable or misconfigured database stops the process at start with a
    /// message that names the key, the server and the reason, and never the password.
    /// </summary>
    public static async Task EnsureReachableAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw Unreachable(dataSource, ex);
        }
    }

    /// <summary>Describes a failure to reach the database as a startup error.</summary>
    public static StartupConfigurationException Unreachable(NpgsqlDataSource dataSource, Exception ex)
    {
        var settings = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        var reason = ex is PostgresException pg ? pg.MessageText : (ex.InnerException?.Message ?? ex.Message);
        return new StartupConfigurationException(
            $"{ConnectionStringKey}: cannot reach PostgreSQL at {settings.Host}:{settings.Port}, database '{settings.Database}': {reason}", ex);
    }
}
