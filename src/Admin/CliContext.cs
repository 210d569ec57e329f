using Outpost.Execution;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Outpost.AuditLog;
using Outpost.Identity;
using Outpost.ServiceDefaults.Database;
using Outpost.ServiceDefaults.Schema;
using Outpost.ServiceDefaults.Security;

namespace Outpost.Admin;

/// <summary>
/// What the admin commands share: one host built with the same <c>Add...</c> methods as the gateway (configuration from
/// appsettings.json, the environment and <c>--Key=value</c>; the database; identity; the audit log), and the database
/// migrated on first use, as the control silo would. The host is built when a command first needs it, and the master
/// key is read when a command first needs it, so <c>--help</c> and usage errors need neither.
/// </summary>
internal sealed class CliContext(string[] configurationArgs, TextReader input, TextWriter output, TextWriter error) : IAsyncDisposable
{
    private HostApplicationBuilder? _builder;
    private IHost? _host;
    private bool _databaseReady;

    public TextReader Input { get; } = input;

    public TextWriter Output { get; } = output;

    public TextWriter Error { get; } = error;

    /// <summary>The data source once the host is built, so that a database failure can be described with its address.</summary>
    public NpgsqlDataSource? DataSource => _host?.Services.GetService<NpgsqlDataSource>();

    public IConfiguration Configuration => Builder.Configuration;

    private HostApplicationBuilder Builder => _builder ??= Host.CreateApplicationBuilder(
        new HostApplicationBuilderSettings { Args = configurationArgs, ApplicationName = AdminCli.ProcessName });

    private IServiceProvider Services => (_host ??= BuildHost()).Services;

    /// <summary>A service of the host, resolved without touching the database (a missing master key is reported first).</summary>
    public T Get<T>()
        where T : notnull => Services.GetRequiredService<T>();

    /// <summary>A service that works on the database: the database is reachable and migrated before it is handed out.</summary>
    public async Task<T> GetAsync<T>(CancellationToken cancellationToken)
        where T : notnull
    {
        var service = Get<T>();
        await DatabaseAsync(cancellationToken);
        return service;
    }

    public async Task<NpgsqlDataSource> DatabaseAsync(CancellationToken cancellationToken)
    {
        var dataSource = Get<NpgsqlDataSource>();
        if (!_databaseReady)
        {
            await OutpostDatabase.EnsureReachableAsync(dataSource, cancellationToken);

            // The commands may run before any silo has started (run.sh sets up the dev tenant first): bring the schema up.
            await new SchemaMigrator(dataSource.ConnectionString, NullLogger<SchemaMigrator>.Instance).MigrateAsync(cancellationToken);
            _databaseReady = true;
        }

        return dataSource;
    }

    private IHost BuildHost()
    {
        var builder = Builder;

        // Commands print their own results; the stores' log lines (a new signing key, say) would only interleave with them.
        builder.Logging.ClearProviders();
        builder.AddOutpostDatabase();
        builder.AddMasterKey(loadWhenFirstUsed: true);
        builder.AddOutpostIdentity();
        builder.AddAuditLogStorage();
        builder.AddExecutionStorage();
        return builder.Build();
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }
        else
        {
            _host?.Dispose();
        }
    }
}
