using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Outpost.Gateway.Identity;
using Outpost.Gateway.Security;
using Outpost.Grains.AuditLogs;
using Outpost.ServiceDefaults.Configuration;
using Outpost.ServiceDefaults.Database;
using Outpost.ServiceDefaults.Schema;
using Outpost.ServiceDefaults.Security;

namespace Outpost.Gateway.Cli;

/// <summary>
/// What the admin commands share: the gateway's configuration (same sources: appsettings.json, environment,
/// <c>--Key=value</c>), the database (migrated on first use, as the control silo would), and the stores.
/// </summary>
internal sealed class CliContext(string[] configurationArgs, TextReader input, TextWriter output, TextWriter error) : IAsyncDisposable
{
    private WebApplicationBuilder? _builder;
    private NpgsqlDataSource? _dataSource;
    private SigningKeyStore? _signingKeys;

    public TextReader Input { get; } = input;

    public TextWriter Output { get; } = output;

    public TextWriter Error { get; } = error;

    /// <summary>The data source once opened, so that a database failure can be described with its address.</summary>
    public NpgsqlDataSource? DataSource => _dataSource;

    public TimeProvider Time { get; } = TimeProvider.System;

    public IConfiguration Configuration => Builder.Configuration;

    private WebApplicationBuilder Builder => _builder ??= WebApplication.CreateBuilder(new WebApplicationOptions { Args = configurationArgs });

    public async Task<NpgsqlDataSource> DatabaseAsync(CancellationToken cancellationToken)
    {
        if (_dataSource is not null)
        {
            return _dataSource;
        }

        _dataSource = Builder.AddOutpostDatabase();
        await OutpostDatabase.EnsureReachableAsync(_dataSource, cancellationToken);

        // The commands may run before any silo has started (run.sh sets up the dev tenant first): bring the schema up.
        await new SchemaMigrator(_dataSource.ConnectionString, NullLogger<SchemaMigrator>.Instance).MigrateAsync(cancellationToken);
        return _dataSource;
    }

    public async Task<TenantStore> TenantsAsync(CancellationToken cancellationToken) =>
        new(await DatabaseAsync(cancellationToken), Time);

    public async Task<ClientStore> ClientsAsync(CancellationToken cancellationToken) =>
        new(await DatabaseAsync(cancellationToken), Time);

    public async Task<TenantAdminStore> AdminsAsync(CancellationToken cancellationToken) =>
        new(await DatabaseAsync(cancellationToken), Time);

    public async Task<DeviceAssignmentStore> AssignmentsAsync(CancellationToken cancellationToken) =>
        new(await DatabaseAsync(cancellationToken), Time);

    public SecurityOptions Security => Configuration.GetValidated<SecurityOptions>(SecurityOptions.Section);

    public async Task<SigningKeyStore> SigningKeysAsync(CancellationToken cancellationToken)
    {
        if (_signingKeys is not null)
        {
            return _signingKeys;
        }

        // Configuration first: a missing master key is reported before the database is touched.
        var security = Security;
        var keyOptions = Configuration.GetValidated<SigningKeyOptions>(SigningKeyOptions.Section);
        var masterKey = MasterKey.Load(security.MasterKeyFile, security.CreateMasterKeyFile);
        _signingKeys = new SigningKeyStore(
            await DatabaseAsync(cancellationToken),
            masterKey,
            Options.Create(security),
            Options.Create(keyOptions),
            Time,
            NullLogger<SigningKeyStore>.Instance);
        return _signingKeys;
    }

    /// <summary>The control plane's audit signer, opened with the same master key as the token signing keys.</summary>
    public async Task<AuditSigner> AuditSignerAsync(CancellationToken cancellationToken)
    {
        var security = Security;
        var masterKey = MasterKey.Load(security.MasterKeyFile, security.CreateMasterKeyFile);
        return new AuditSigner(await DatabaseAsync(cancellationToken), masterKey, Time);
    }

    public async Task<TokenIssuer> TokenIssuerAsync(CancellationToken cancellationToken) =>
        new(await SigningKeysAsync(cancellationToken), Options.Create(Security), Configuration, Time);

    public async ValueTask DisposeAsync()
    {
        _signingKeys?.Dispose();
        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync();
        }
    }
}
