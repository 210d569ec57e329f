using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Connections.Security;
using Outpost.ServiceDefaults.Configuration;

namespace Outpost.ServiceDefaults.ClusterTls;

/// <summary>
/// Puts mutual TLS on a node's cluster connections. Who may connect where: the silo-to-silo port takes control and edge
/// nodes; the gateway port takes the gateway only (so an edge certificate cannot pose as the cluster's client); a node
/// dialling out accepts only a control or edge silo at the other end.
/// </summary>
public static class ClusterTlsExtensions
{
    private static readonly string[] SiloRoles = [NodeIdentity.Control, NodeIdentity.Edge];
    private static readonly string[] ClientRoles = [NodeIdentity.Gateway];

    /// <summary>Configures TLS on a silo whose certificate must name <paramref name="expected"/>; false when TLS is disabled.</summary>
    public static bool UseClusterTls(this ISiloBuilder silo, IConfiguration configuration, NodeIdentity expected)
    {
        ArgumentNullException.ThrowIfNull(silo);
        if (Load(configuration, expected) is not var (certificate, authority))
        {
            return false;
        }

        var peers = Options(certificate, authority, SiloRoles);
        var clients = Options(certificate, authority, ClientRoles);
        silo.Configure<SiloConnectionOptions>(o =>
        {
            o.ConfigureSiloInboundConnection(connection => connection.UseServerTls(peers));
            o.ConfigureGatewayInboundConnection(connection => connection.UseServerTls(clients));
            o.ConfigureSiloOutboundConnection(connection => connection.UseClientTls(peers));
        });
        return true;
    }

    /// <summary>Configures TLS on a cluster client (the gateway); false when TLS is disabled.</summary>
    public static bool UseClusterTls(this IClientBuilder client, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(client);
        if (Load(configuration, NodeIdentity.GatewayClient) is not var (certificate, authority))
        {
            return false;
        }

        var silos = Options(certificate, authority, SiloRoles);
        client.Configure<ClientConnectionOptions>(o => o.ConfigureConnection(connection => connection.UseClientTls(silos)));
        return true;
    }

    /// <summary>
    /// Registers the start-up warning of a node whose cluster TLS is off. Called before Orleans is added, so that the
    /// warning comes first, before a join that may never complete.
    /// </summary>
    public static void WarnWhenClusterTlsDisabled(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.Configuration.GetValidated<ClusterTlsOptions>(ClusterTlsOptions.Section).Disabled)
        {
            builder.Services.AddHostedService<ClusterTlsDisabledWarning>();
        }
    }

    private static TlsOptions Options(X509Certificate2 certificate, X509Certificate2 authority, string[] acceptedRoles) => new()
    {
        LocalCertificate = certificate,
        RemoteCertificateMode = RemoteCertificateMode.RequireCertificate,
        ClientCertificateMode = RemoteCertificateMode.RequireCertificate,
        // The chain is checked against the cluster CA alone; the platform's verdict (unknown root, host name) is not ours.
        RemoteCertificateValidation = (peer, _, _) => ClusterCertificates.Check(peer, authority, acceptedRoles) is null,
    };

    /// <summary>The node's certificate (with its key) and the CA, or null when TLS is disabled; throws naming the problem.</summary>
    private static (X509Certificate2 Certificate, X509Certificate2 Authority)? Load(IConfiguration configuration, NodeIdentity expected)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = configuration.GetValidated<ClusterTlsOptions>(ClusterTlsOptions.Section);
        if (options.Disabled)
        {
            return null;
        }

        var section = ClusterTlsOptions.Section;
        string Required(string? value, string key) => string.IsNullOrWhiteSpace(value)
            ? throw new StartupConfigurationException(
                $"{section}:{key} is missing: every node needs the cluster CA ({section}:CaFile), its certificate ({section}:CertificateFile) and key ({section}:KeyFile); "
                + $"make them with 'outpost cluster ca create' and 'outpost cluster cert issue', or set {section}:Disabled=true on a machine nobody else can reach.")
            : value;

        var caFile = Required(options.CaFile, nameof(options.CaFile));
        var certificateFile = Required(options.CertificateFile, nameof(options.CertificateFile));
        var keyFile = Required(options.KeyFile, nameof(options.KeyFile));
        X509Certificate2 authority;
        X509Certificate2 certificate;
        try
        {
            authority = X509CertificateLoader.LoadCertificate(PemBody(caFile));
            certificate = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new StartupConfigurationException($"{section}: cannot load the cluster certificates ({caFile}, {certificateFile}, {keyFile}): {ex.Message}", ex);
        }

        var problem = ClusterCertificates.Check(certificate, authority, [expected.Role]);
        if (problem is null && NodeIdentity.Of(certificate) != expected)
        {
            problem = $"its certificate is for {NodeIdentity.Of(certificate)}, and this node is {expected}";
        }

        if (problem is not null)
        {
            throw new StartupConfigurationException($"{section}:CertificateFile: this node cannot use '{certificateFile}': {problem}.");
        }

        return (certificate, authority);
    }

    private static byte[] PemBody(string file)
    {
        var text = File.ReadAllText(file);
        var fields = PemEncoding.Find(text);
        return Convert.FromBase64String(text[fields.Base64Data]);
    }
}
