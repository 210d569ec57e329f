using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Outpost.EdgeSilo.Extensions;
using Outpost.Gateway.Extensions;
using Outpost.Grains.EdgeDevices;
using Outpost.Identity;
using Outpost.ServiceDefaults.ClusterTls;
using System.Security.Cryptography.X509Certificates;
using Outpost.ServiceDefaults.Schema;
using Outpost.Silo.Extensions;
using Outpost.Testing.PostgreSql;

namespace Outpost.Testing.Cluster;

/// <summary>
/// A real Outpost cluster for tests: the control silo, edge silos and the gateway, composed by the same extension
/// methods the executables use, talking TCP on loopback and keeping membership, state and reminders in a real
/// PostgreSQL database. Edge silos can also run as separate processes, to be killed.
/// </summary>
public sealed class OutpostCluster : IAsyncDisposable
{
    private readonly List<SiloHandle> _silos = [];
    private readonly List<SiloProcess> _processes = [];
    private readonly Dictionary<NodeIdentity, Dictionary<string, string?>> _tls = [];
    private WebApplication? _gateway;

    private OutpostCluster(string connectionString, OutpostClusterSettings settings)
    {
        ConnectionString = connectionString;
        ServiceConnectionString = new NpgsqlConnectionStringBuilder(connectionString) { Username = ServiceRole }.ConnectionString;
        EdgeConnectionString = new NpgsqlConnectionStringBuilder(connectionString) { Username = EdgeRole }.ConnectionString;
        Settings = settings;
    }

    /// <summary>The login role the cluster's processes run as: a member of <c>outpost_app</c>, owning nothing.</summary>
    public const string ServiceRole = "outpost_service";

    /// <summary>The login role edge silos run as: a member of <c>outpost_edge_app</c>, owning nothing.</summary>
    public const string EdgeRole = "outpost_edge";

    /// <summary>The database as its owner (a superuser): for tests that set up data or play the attacker.</summary>
    public string ConnectionString { get; }

    /// <summary>The database as the silos and the gateway see it, with the privileges of <c>outpost_app</c> only.</summary>
    public string ServiceConnectionString { get; }

    /// <summary>The database as an edge silo sees it, with the privileges of <c>outpost_edge_app</c> only.</summary>
    public string EdgeConnectionString { get; }

    public OutpostClusterSettings Settings { get; }

    /// <summary>The cluster and service id; a restarted cluster keeps them and so finds its state again.</summary>
    public string ClusterId { get; } = "test-" + Guid.NewGuid().ToString("N")[..12];

    public SiloHandle Control => _silos.First(s => s.DeviceId is null && !s.IsStopped);

    public IEnumerable<SiloHandle> Silos => _silos.Where(s => !s.IsStopped);

    public SiloHandle Edge(string deviceId) => _silos.Single(s => s.DeviceId == deviceId && !s.IsStopped);

    /// <summary>The gateway's cluster client.</summary>
    public IClusterClient Client => Gateway.Services.GetRequiredService<IClusterClient>();

    public WebApplication Gateway => _gateway ?? throw new InvalidOperationException("The gateway is not running.");

    /// <summary>
    /// An HTTP client for the gateway on its loopback port, carrying a token of tenant <see cref="DefaultTenant"/> with
    /// every scope; <see cref="CreateHttpClient"/> makes clients with other tokens (or none).
    /// </summary>
    public HttpClient Http { get; private set; } = new();

    /// <summary>The tenant of <see cref="Http"/>'s token.</summary>
    public const string DefaultTenant = "test";

    /// <summary>The issuer and audience the gateway of this cluster accepts.</summary>
    public const string Issuer = "http://outpost.test";

    public const string Audience = "outpost";

    /// <summary>The development HS256 key of this cluster (tests only; production uses ES256 keys it issues itself).</summary>
    public byte[] DevelopmentKey { get; } = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);

    /// <summary>Where this cluster's master key (encrypting signing keys at rest) lives.</summary>
    public string MasterKeyFile { get; } = Path.Combine(Path.GetTempPath(), $"outpost-test-master-{Guid.NewGuid():N}.key");

    /// <summary>This cluster's CA and node certificates (a fresh CA per cluster; deleted with it).</summary>
    public string TlsDirectory { get; } = Directory.CreateTempSubdirectory("outpost-test-tls-").FullName;

    /// <summary>The cluster CA, with its private key, for tests that issue certificates of their own.</summary>
    public X509Certificate2 Authority { get; } = ClusterCertificates.CreateAuthority("outpost test cluster", TimeSpan.FromDays(1));

    /// <summary>
    /// The <c>Cluster:Tls</c> settings of a node that is <paramref name="identity"/>: the CA file and a certificate the
    /// cluster CA issued for it (made on first use).
    /// </summary>
    public Dictionary<string, string?> TlsSettings(NodeIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        lock (_tls)
        {
            if (!_tls.TryGetValue(identity, out var settings))
            {
                var caFile = Path.Combine(TlsDirectory, "ca.crt");
                if (!File.Exists(caFile))
                {
                    ClusterCertificates.Write(Authority, caFile, keyFile: null);
                }

                var name = identity.DeviceId is null ? identity.Role : $"{identity.Role}-{identity.DeviceId}";
                var certificateFile = Path.Combine(TlsDirectory, name + ".crt");
                var keyFile = Path.Combine(TlsDirectory, name + ".key");
                using var issued = ClusterCertificates.Issue(Authority, identity, TimeSpan.FromDays(1));
                ClusterCertificates.Write(issued, certificateFile, keyFile);
                settings = new()
                {
                    [$"{ClusterTlsOptions.Section}:CaFile"] = caFile,
                    [$"{ClusterTlsOptions.Section}:CertificateFile"] = certificateFile,
                    [$"{ClusterTlsOptions.Section}:KeyFile"] = keyFile,
                };
                _tls[identity] = settings;
            }

            return new(settings);
        }
    }

    /// <summary>Creates a database on <paramref name="postgres"/>, migrates it and starts the cluster.</summary>
    public static async Task<OutpostCluster> StartAsync(PostgreSqlServer postgres, OutpostClusterSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(postgres);
        var connectionString = await postgres.CreateDatabaseAsync();
        await new SchemaMigrator(connectionString, NullLogger<SchemaMigrator>.Instance).MigrateAsync();
        await CreateLoginRolesAsync(connectionString);
        var cluster = new OutpostCluster(connectionString, settings ?? new OutpostClusterSettings());
        try
        {
            await cluster.StartAllAsync();
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }

        return cluster;
    }

    // Roles are the server's, shared by every test database on it; test databases run in parallel, hence the guards.
    private static async Task CreateLoginRolesAsync(string ownerConnectionString)
    {
        await using var connection = new NpgsqlConnection(ownerConnectionString);
        await connection.OpenAsync();
        foreach (var (role, group) in new[] { (ServiceRole, "outpost_app"), (EdgeRole, "outpost_edge_app") })
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $$"""
                DO $$
                BEGIN
                    BEGIN
                        CREATE ROLE {{role}} LOGIN;
                    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                    END;
                    BEGIN
                        GRANT {{group}} TO {{role}};
                    EXCEPTION WHEN unique_violation OR object_in_use OR internal_error THEN NULL;
                    END;
                END
                $$;
                """;
            await command.ExecuteNonQueryAsync();
        }
    }

    /// <summary>Starts the control silo, the configured in-process edge silos and the gateway.</summary>
    public async Task StartAllAsync()
    {
        await StartControlSiloAsync();
        foreach (var deviceId in Settings.EdgeDevices)
        {
            await StartEdgeSiloAsync(deviceId);
        }

        await StartGatewayAsync();
        foreach (var deviceId in Settings.EdgeDevices)
        {
            await WaitForDeviceAsync(deviceId, online: true);
        }
    }

    /// <summary>Stops the gateway and every silo cleanly, as an operator's restart would.</summary>
    public async Task StopAllAsync()
    {
        await StopGatewayAsync();
        foreach (var silo in Silos.Reverse().ToList())
        {
            await StopSiloAsync(silo);
        }
    }

    public async Task<SiloHandle> StartControlSiloAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        var values = new Dictionary<string, string?>
        {
            ["Cluster:SiloPort"] = FreePorts.Next().ToString(),
            ["Cluster:GatewayPort"] = FreePorts.Next().ToString(),
            ["Http:Port"] = "0",
            ["Security:MasterKeyFile"] = MasterKeyFile,
            ["Security:CreateMasterKeyFile"] = "true",
        };
        foreach (var (key, value) in TokenValidationSettings().Concat(TlsSettings(NodeIdentity.ControlPlane)))
        {
            values[key] = value;
        }

        foreach (var (key, value) in Settings.ControlConfiguration)
        {
            values[key] = value;
        }

        Configure(builder.Configuration, builder.Logging, values);
        builder.AddControlSilo();
        var app = builder.Build();
        app.MapControlSiloEndpoints();
        await app.StartAsync();
        var handle = new SiloHandle(app, deviceId: null);
        _silos.Add(handle);
        return handle;
    }

    /// <summary>
    /// Starts an in-process edge silo for <paramref name="deviceId"/>; <paramref name="overrides"/> replace any of its
    /// settings (e.g. <c>Cluster:Tls:*</c>, to start one with another certificate or none).
    /// </summary>
    public async Task<SiloHandle> StartEdgeSiloAsync(string deviceId, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = Environments.Production });
        Configure(builder.Configuration, builder.Logging, EdgeSettings(deviceId, overrides), EdgeConnectionString);
        builder.AddEdgeSilo();
        var host = builder.Build();
        await host.StartAsync();
        var handle = new SiloHandle(host, deviceId);
        _silos.Add(handle);
        return handle;
    }

    /// <summary>Starts an EdgeSilo executable for <paramref name="deviceId"/> and waits until its device is online.</summary>
    public async Task<SiloProcess> StartEdgeSiloProcessAsync(string deviceId)
    {
        var process = StartEdgeSiloProcess(deviceId);
        try
        {
            await WaitForDeviceAsync(deviceId, online: true);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message} EdgeSilo output:\n{process.Output}", ex);
        }

        return process;
    }

    /// <summary>
    /// Starts an EdgeSilo executable for <paramref name="deviceId"/> without waiting for it; <paramref name="overrides"/>
    /// replace any of its settings. For silos that must fail to join: Orleans ends the process of a silo the cluster
    /// declares dead, which in process would end the test host.
    /// </summary>
    public SiloProcess StartEdgeSiloProcess(string deviceId, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var arguments = EdgeSettings(deviceId, overrides).Select(kv => $"--{kv.Key}={kv.Value}");
        var process = new SiloProcess(
            OutpostProcessRunner.Start("EdgeSilo", arguments, new Dictionary<string, string?> { ["ConnectionStrings__Outpost"] = EdgeConnectionString }),
            deviceId);
        _processes.Add(process);
        return process;
    }

    /// <summary>Starts a second control silo as a Silo executable and waits until it is an active member.</summary>
    public async Task<SiloProcess> StartControlSiloProcessAsync()
    {
        var management = Client.GetGrain<IManagementGrain>(0);
        var before = (await management.GetHosts(onlyActive: true)).Count;
        var settings = new Dictionary<string, string?>(MembershipSettings())
        {
            ["Cluster:SiloPort"] = FreePorts.Next().ToString(),
            ["Cluster:GatewayPort"] = FreePorts.Next().ToString(),
            ["Http:Port"] = "0",
            ["Security:MasterKeyFile"] = MasterKeyFile,
        };
        foreach (var (key, value) in TokenValidationSettings().Concat(TlsSettings(NodeIdentity.ControlPlane)))
        {
            settings[key] = value;
        }

        var process = new SiloProcess(
            OutpostProcessRunner.Start("Silo", settings.Select(kv => $"--{kv.Key}={kv.Value}"), new Dictionary<string, string?> { ["ConnectionStrings__Outpost"] = ServiceConnectionString }),
            deviceId: null);
        _processes.Add(process);
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while ((await management.GetHosts(onlyActive: true)).Count <= before)
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The control silo process did not join the cluster. Output:\n{process.Output}");
            }

            await Task.Delay(200);
        }

        return process;
    }

    /// <summary>What a process that verifies the cluster's tokens (the gateway, the control silo's dashboard) is given.</summary>
    public Dictionary<string, string?> TokenValidationSettings() => new()
    {
        ["Security:Issuer"] = Issuer,
        ["Security:Audience"] = Audience,
        ["Security:DevelopmentHs256Secret"] = Convert.ToBase64String(DevelopmentKey),
    };

    public async Task StopSiloAsync(SiloHandle silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        if (silo.IsStopped)
        {
            return;
        }

        silo.IsStopped = true;
        await silo.Host.StopAsync();
        if (silo.Host is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync();
        }
        else
        {
            silo.Host.Dispose();
        }
    }

    public async Task StartGatewayAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        var values = new Dictionary<string, string?>(TokenValidationSettings())
        {
            ["Http:Port"] = "0",
            ["Security:MasterKeyFile"] = MasterKeyFile,
            ["Security:CreateMasterKeyFile"] = "true",
        };
        foreach (var (key, value) in TlsSettings(NodeIdentity.GatewayClient))
        {
            values[key] = value;
        }

        foreach (var (key, value) in Settings.GatewayConfiguration)
        {
            values[key] = value;
        }

        Configure(builder.Configuration, builder.Logging, values);
        builder.AddGateway();
        var app = builder.Build();
        app.UseGatewayErrorHandling();
        app.UseGatewaySecurity();
        app.MapGatewayEndpoints();
        await app.StartAsync();
        _gateway = app;
        Http = CreateHttpClient(IssueDevelopmentToken(DefaultTenant, [.. Scopes.All]));
    }

    public async Task StopGatewayAsync()
    {
        if (_gateway is null)
        {
            return;
        }

        Http.Dispose();
        await _gateway.StopAsync();
        await _gateway.DisposeAsync();
        _gateway = null;
    }

    /// <summary>An HTTP client for the gateway; with <paramref name="token"/> as its bearer token when given.</summary>
    public HttpClient CreateHttpClient(string? token = null)
    {
        var client = new HttpClient { BaseAddress = new Uri(Gateway.Urls.First()) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    /// <summary>An HS256 access token this cluster's gateway accepts (development mode), for any tenant and scopes.</summary>
    public string IssueDevelopmentToken(string tenant, IEnumerable<string> scopes, TimeSpan? lifetime = null, string? clientId = null) =>
        DevelopmentTokens.Create(DevelopmentKey, Issuer, Audience, tenant, scopes, lifetime ?? TimeSpan.FromHours(1), clientId ?? $"{tenant}-client");

    /// <summary>Waits until the directory reports <paramref name="deviceId"/> online (or offline).</summary>
    public async Task<DeviceSummary> WaitForDeviceAsync(string deviceId, bool online, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        var deadline = DateTime.UtcNow + limit;
        DeviceSummary? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var devices = await Client.GetGrain<IDeviceDirectoryGrain>(IDeviceDirectoryGrain.Key).ListAsync();
                last = devices.FirstOrDefault(d => d.Record.Registration.DeviceId == deviceId);
                if (last is not null && last.Online == online)
                {
                    return last;
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The client may still be learning the cluster; keep asking until the deadline.
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"Device '{deviceId}' was not {(online ? "online" : "offline")} within {limit}; last seen: {last}.");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        await StopGatewayAsync();
        File.Delete(MasterKeyFile);
        foreach (var silo in _silos.AsEnumerable().Reverse())
        {
            try
            {
                await StopSiloAsync(silo);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Best effort: a silo that fails to stop must not keep the others running.
            }
        }

        Authority.Dispose();
        Directory.Delete(TlsDirectory, recursive: true);
    }

    private Dictionary<string, string?> EdgeSettings(string deviceId, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var settings = new Dictionary<string, string?>(TlsSettings(NodeIdentity.EdgeDevice(deviceId)))
        {
            // Each cluster's devices have their own keys: test clusters run in parallel with the same device ids.
            ["Edge:Tasks:KeyFile"] = Path.Combine(TlsDirectory, $"device-key-{deviceId}.pem"),
        };
        foreach (var (key, value) in Settings.EdgeConfiguration.Concat(overrides ?? new Dictionary<string, string?>()))
        {
            settings[key] = value;
        }

        settings["Edge:DeviceId"] = deviceId;
        settings["Edge:HeartbeatInterval"] = "00:00:01";
        settings["Cluster:SiloPort"] = FreePorts.Next().ToString();
        foreach (var (key, value) in MembershipSettings())
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>What every member of this cluster must agree on: its ids and how fast a dead silo is noticed.</summary>
    private Dictionary<string, string?> MembershipSettings() => new()
    {
        ["Cluster:ClusterId"] = ClusterId,
        ["Cluster:ServiceId"] = ClusterId,
        ["Cluster:ProbeTimeout"] = Settings.ProbeTimeout.ToString(),
        ["Cluster:MissedProbesLimit"] = Settings.MissedProbesLimit.ToString(),
    };

    private void Configure(IConfigurationManager configuration, ILoggingBuilder logging, Dictionary<string, string?> values, string? connectionString = null)
    {
        values["ConnectionStrings:Outpost"] = connectionString ?? ServiceConnectionString;
        foreach (var (key, value) in MembershipSettings())
        {
            values[key] = value;
        }

        configuration.AddInMemoryCollection(values);
        logging.ClearProviders();
        if (Settings.ConsoleLogLevel is { } level)
        {
            logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(level);
        }
    }
}
