using System.ComponentModel.DataAnnotations;

namespace Outpost.Gateway.Security;

/// <summary>
/// The gateway's HTTPS listener, where machines may authenticate with client certificates (mTLS). Section
/// <c>Https</c>; off unless <see cref="Port"/> is set.
/// </summary>
public sealed class HttpsOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Https";

    /// <summary>The HTTPS port; 0 turns the listener off.</summary>
    [Range(0, 65535, ErrorMessage = "must be a port number from 1 to 65535, or 0 for no HTTPS listener.")]
    public int Port { get; set; }

    /// <summary>The server certificate (PEM). Required with <see cref="Port"/>.</summary>
    public string? CertificateFile { get; set; }

    /// <summary>The server certificate's private key (PEM).</summary>
    public string? KeyFile { get; set; }

    /// <summary>
    /// PEM bundle of the CA certificates that issue client certificates. A client certificate must chain to one of them
    /// and its SHA-256 thumbprint must be registered for a client; then the client's tenant and scopes apply.
    /// </summary>
    public string? ClientCaFile { get; set; }
}
