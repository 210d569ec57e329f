using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Outpost.Identity;
using Outpost.Identity.Clients;
using Outpost.Identity.SigningKeys;
using Outpost.Identity.Tenants;
using Outpost.Identity.Tokens;
using Outpost.ServiceDefaults.Schema;
using Outpost.ServiceDefaults.Security;
using Outpost.Testing.PostgreSql;

namespace Outpost.Testing.Identity;

/// <summary>A fresh, migrated database and a temporary master key, with the identity services built on them directly.</summary>
public sealed class IdentityDatabase : IAsyncDisposable
{
    private readonly List<SigningKeyStore> _keyStores = [];

    private IdentityDatabase(string connectionString, string directory)
    {
        ConnectionString = connectionString;
        Directory = directory;
        DataSource = NpgsqlDataSource.Create(connectionString);
        Security = new SecurityOptions
        {
            Issuer = new Uri("https://outpost.test"),
            Audience = "outpost",
            MasterKeyFile = Path.Combine(directory, "master.key"),
            CreateMasterKeyFile = true,
        };
    }

    public string ConnectionString { get; }

    /// <summary>A temporary directory for the master key and other files, deleted with the database object.</summary>
    public string Directory { get; }

    public NpgsqlDataSource DataSource { get; }

    public SecurityOptions Security { get; }

    public ManualTimeProvider Time { get; } = new();

    public static async Task<IdentityDatabase> CreateAsync(PostgreSqlFixture fixture)
    {
        ArgumentNullException.ThrowIfNull(fixture);
        var connectionString = await fixture.Server.CreateDatabaseAsync();
        await new SchemaMigrator(connectionString, NullLogger<SchemaMigrator>.Instance).MigrateAsync();
        var directory = Path.Combine(Path.GetTempPath(), "outpost-identity-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        return new IdentityDatabase(connectionString, directory);
    }

    public MasterKey LoadMasterKey() => MasterKey.Load(Security.MasterKeyFile, Security.CreateMasterKeyFile);

    /// <summary>A signing key store as one gateway would hold it; several stand for several gateways.</summary>
    public SigningKeyStore CreateSigningKeyStore(MasterKey? masterKey = null)
    {
        var store = new SigningKeyStore(
            DataSource,
            masterKey ?? LoadMasterKey(),
            Options.Create(Security),
            Options.Create(new SigningKeyOptions()),
            Time,
            NullLogger<SigningKeyStore>.Instance);
        _keyStores.Add(store);
        return store;
    }

    public TokenIssuer CreateTokenIssuer(SigningKeyStore keys) =>
        new(keys, Options.Create(Security), new ConfigurationBuilder().Build(), Time);

    public TenantStore Tenants() => new(DataSource, Time);

    public ClientStore Clients() => new(DataSource, Time);

    public TenantAdminStore Admins() => new(DataSource, Time);

    public DeviceAssignmentStore Assignments() => new(DataSource, Time);

    public async Task<T?> ScalarAsync<T>(string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = DataSource.CreateCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        var result = await command.ExecuteScalarAsync();
        return result is null or DBNull ? default : (T)result;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _keyStores)
        {
            store.Dispose();
        }

        await DataSource.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
