using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Npgsql;
using Outpost.Gateway.Security;
using Outpost.Testing.Cluster;
using Outpost.Testing.PostgreSql;
using Xunit;

namespace Outpost.Gateway.Tests.Security;

/// <summary>mTLS on the gateway's HTTPS listener: a registered client certificate is an identity with a tenant and scopes.</summary>
public sealed class ClientCertificateTests(PostgreSqlFixture postgres) : IClassFixture<PostgreSqlFixture>, IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("outpost-mtls-").FullName;
    private readonly int _httpsPort = FreePorts.Next();
    private OutpostCluster? _cluster;
    private X509Certificate2? _admin;
    private X509Certificate2? _embedder;
    private X509Certificate2? _stranger;
    private X509Certificate2? _otherCa;

    public async Task InitializeAsync()
    {
        using var ca = CreateCa("Outpost test client CA");
        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var server = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        server.CertificateExtensions.Add(names.Build());
        using var serverCertificate = server.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        await File.WriteAllTextAsync(Path.Combine(_directory, "server.pem"), serverCertificate.ExportCertificatePem());
        await File.WriteAllTextAsync(Path.Combine(_directory, "server.key"), serverKey.ExportPkcs8PrivateKeyPem());
        await File.WriteAllTextAsync(Path.Combine(_directory, "ca.pem"), ca.ExportCertificatePem());

        _admin = Issue(ca, "CN=admin-machine");
        _embedder = Issue(ca, "CN=embedding-machine");
        _stranger = Issue(ca, "CN=unregistered-machine");
        using var otherCa = CreateCa("Someone else's CA");
        _otherCa = Issue(otherCa, "CN=admin-machine");

        _cluster = await OutpostCluster.StartAsync(postgres.Server, new OutpostClusterSettings
        {
            EdgeDevices = ["dev-pi-1"],
            GatewayConfiguration = new Dictionary<string, string?>
            {
                ["Https:Port"] = _httpsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Https:CertificateFile"] = Path.Combine(_directory, "server.pem"),
                ["Https:KeyFile"] = Path.Combine(_directory, "server.key"),
                ["Https:ClientCaFile"] = Path.Combine(_directory, "ca.pem"),
            },
        });

        await using var data = NpgsqlDataSource.Create(_cluster.ConnectionString);
        await using var command = data.CreateCommand("""
            INSERT INTO outpost_tenants (tenant_id, display_name) VALUES ('acme', 'Acme') ON CONFLICT DO NOTHING;
            INSERT INTO outpost_clients (client_id, tenant_id, name, kind, allowed_scopes, certificate_thumbprint)
            VALUES ('oc_admin', 'acme', 'admin machine', 'confidential', '{admin}', @admin),
                   ('oc_embed', 'acme', 'embedding machine', 'confidential', '{embed:create}', @embed);
            """);
        command.Parameters.AddWithValue("admin", ClientCertificateExtensions.ThumbprintOf(_admin));
        command.Parameters.AddWithValue("embed", ClientCertificateExtensions.ThumbprintOf(_embedder));
        await command.ExecuteNonQueryAsync();
        Assert.Equal(64, ClientCertificateExtensions.ThumbprintOf(_admin).Length);
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        foreach (var certificate in new[] { _admin, _embedder, _stranger, _otherCa })
        {
            certificate?.Dispose();
        }

        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task RegisteredCertificate_WithTheScope_IsServedAsItsTenant()
    {
        using var client = Https(_admin);

        using var response = await client.GetAsync("/v1/devices");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("dev-pi-1", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RegisteredCertificate_WithoutTheScope_Gets403InsufficientScope()
    {
        using var client = Https(_embedder);

        using var response = await client.GetAsync("/v1/devices");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("scope=\"admin\"", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnregisteredCertificate_Gets401()
    {
        using var client = Https(_stranger);

        using var response = await client.GetAsync("/v1/devices");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task CertificateFromAnotherCa_WithARegisteredSubject_Gets401()
    {
        using var client = Https(_otherCa);

        using var response = await client.GetAsync("/v1/devices");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task NoCertificateAndNoToken_Gets401()
    {
        using var client = Https(null);

        using var response = await client.GetAsync("/v1/devices");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private HttpClient Https(X509Certificate2? certificate)
    {
        var handler = new HttpClientHandler
        {
            // The test's own self-signed server certificate.
            ServerCertificateCustomValidationCallback = (_, _, _, _) => true,
        };
        if (certificate is not null)
        {
            handler.ClientCertificateOptions = ClientCertificateOption.Manual;
            handler.ClientCertificates.Add(certificate);
        }

        return new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{_httpsPort}") };
    }

    private static X509Certificate2 CreateCa(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(8));
        using var withKey = issued.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }
}
