using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Authentication.Certificate;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Outpost.Identity;
using Outpost.Identity.Clients;
using Outpost.ServiceDefaults.Configuration;

namespace Outpost.Gateway.Security;

/// <summary>
/// mTLS as a machine identity: on the HTTPS listener a client may present a certificate issued by the configured CA;
/// its SHA-256 thumbprint names a registered client, whose tenant and allowed scopes the request then carries.
/// </summary>
public static class ClientCertificateExtensions
{
    /// <summary>The policy scheme that picks a bearer token when one is sent and the client certificate otherwise.</summary>
    public const string Scheme = "outpost";

    public static WebApplicationBuilder AddClientCertificates(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var https = builder.AddValidatedOptions<HttpsOptions>(HttpsOptions.Section);
        var authentication = builder.Services.AddAuthentication(o =>
        {
            o.DefaultScheme = Scheme;
            o.DefaultChallengeScheme = JwtBearerDefaults.AuthenticationScheme;
        });
        authentication.AddPolicyScheme(Scheme, "Bearer token or client certificate", o => o.ForwardDefaultSelector = context =>
            string.IsNullOrEmpty(context.Request.Headers.Authorization) && context.Connection.ClientCertificate is not null
                ? CertificateAuthenticationDefaults.AuthenticationScheme
                : JwtBearerDefaults.AuthenticationScheme);
        if (https.Port == 0)
        {
            return builder;
        }

        if (string.IsNullOrWhiteSpace(https.CertificateFile) || !File.Exists(https.CertificateFile))
        {
            throw new StartupConfigurationException($"{HttpsOptions.Section}:CertificateFile: '{https.CertificateFile}' does not exist; the HTTPS listener needs a server certificate (PEM).");
        }

        var serverCertificate = LoadServerCertificate(https);
        var clientCas = LoadCas(https.ClientCaFile);
        var address = IPAddress.Parse(builder.Configuration.GetValidated<Outpost.ServiceDefaults.Configuration.HttpEndpointOptions>(Outpost.ServiceDefaults.Configuration.HttpEndpointOptions.Section).Address);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(address, https.Port, listen => listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = serverCertificate,
            ClientCertificateMode = clientCas.Count > 0 ? ClientCertificateMode.AllowCertificate : ClientCertificateMode.NoCertificate,
            // The chain is checked by the authentication handler against the configured CAs, not the machine's store.
            ClientCertificateValidation = (_, _, _) => true,
        })));

        authentication.AddCertificate(o =>
        {
            o.AllowedCertificateTypes = CertificateTypes.Chained;
            o.ChainTrustValidationMode = X509ChainTrustMode.CustomRootTrust;
            o.CustomTrustStore = clientCas;
            o.RevocationMode = X509RevocationMode.NoCheck;
            o.ValidateValidityPeriod = true;
            o.ForwardChallenge = JwtBearerDefaults.AuthenticationScheme;
            o.Events = new CertificateAuthenticationEvents { OnCertificateValidated = MapToClientAsync };
        });
        return builder;
    }

    /// <summary>The SHA-256 thumbprint of a certificate's DER bytes, upper-case hex, as clients are registered with.</summary>
    public static string ThumbprintOf(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return Convert.ToHexString(SHA256.HashData(certificate.RawData));
    }

    private static async Task MapToClientAsync(CertificateValidatedContext context)
    {
        var clients = context.HttpContext.RequestServices.GetRequiredService<ClientStore>();
        var client = await clients.FindByCertificateThumbprintAsync(ThumbprintOf(context.ClientCertificate), context.HttpContext.RequestAborted);
        if (client is null || client.IsDisabled)
        {
            context.Fail("The client certificate is not registered to an enabled client.");
            return;
        }

        context.Principal = new ClaimsPrincipal(new ClaimsIdentity(
        [
            new Claim(OutpostClaims.Subject, client.ClientId),
            new Claim(OutpostClaims.ClientId, client.ClientId),
            new Claim(OutpostClaims.Tenant, client.TenantId),
            new Claim(OutpostClaims.Scope, string.Join(' ', client.AllowedScopes)),
        ], CertificateAuthenticationDefaults.AuthenticationScheme, OutpostClaims.Subject, null));
        context.Success();
    }

    private static X509Certificate2 LoadServerCertificate(HttpsOptions https)
    {
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(https.CertificateFile!, https.KeyFile);

            // Kestrel on Linux needs the key in an exportable, persisted form; a PKCS#12 round trip gives it one.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (CryptographicException ex)
        {
            throw new StartupConfigurationException($"{HttpsOptions.Section}:CertificateFile: cannot load the certificate and key: {ex.Message}", ex);
        }
    }

    private static X509Certificate2Collection LoadCas(string? file)
    {
        var collection = new X509Certificate2Collection();
        if (string.IsNullOrWhiteSpace(file))
        {
            return collection;
        }

        if (!File.Exists(file))
        {
            throw new StartupConfigurationException($"{HttpsOptions.Section}:ClientCaFile: '{file}' does not exist.");
        }

        collection.ImportFromPemFile(file);
        return collection.Count > 0
            ? collection
            : throw new StartupConfigurationException($"{HttpsOptions.Section}:ClientCaFile: '{file}' holds no PEM certificate.");
    }
}
