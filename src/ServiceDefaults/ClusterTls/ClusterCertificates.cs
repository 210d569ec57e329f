using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Outpost.ServiceDefaults.ClusterTls;

/// <summary>
/// The cluster CA and the node certificates it issues (ECDSA P-256), and the check every node runs on a peer's
/// certificate: it chains to the cluster CA (and to nothing else), is within its validity, is meant for TLS, and names
/// a role this side accepts.
/// </summary>
public static class ClusterCertificates
{
    /// <summary>Creates a self-signed cluster CA that may issue node certificates only (path length 0).</summary>
    public static X509Certificate2 CreateAuthority(string name, TimeSpan lifetime, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(DistinguishedName(name, "Outpost cluster CA"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = (time ?? TimeProvider.System).GetUtcNow();
        return request.CreateSelfSigned(now.AddMinutes(-5), now + lifetime);
    }

    /// <summary>Issues a node certificate for <paramref name="identity"/>, valid as both TLS server and client.</summary>
    public static X509Certificate2 Issue(X509Certificate2 authority, NodeIdentity identity, TimeSpan lifetime, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(authority);
        ArgumentNullException.ThrowIfNull(identity);
        if (!authority.HasPrivateKey)
        {
            throw new ArgumentException("the CA certificate has no private key loaded; pass its key file.", nameof(authority));
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(DistinguishedName(identity.ToString(), "Outpost cluster"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddUri(new Uri(identity.Uri));
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, true, false));
        var now = (time ?? TimeProvider.System).GetUtcNow();
        var notAfter = now + lifetime < authority.NotAfter ? now + lifetime : new DateTimeOffset(authority.NotAfter.ToUniversalTime());
        using var issued = request.Create(authority, now.AddMinutes(-5), notAfter, RandomNumberGenerator.GetBytes(16));
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>Writes the certificate (PEM) and, when it has one, its private key (PKCS#8 PEM, mode 0600).</summary>
    public static void Write(X509Certificate2 certificate, string certificateFile, string? keyFile)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        File.WriteAllText(certificateFile, certificate.ExportCertificatePem() + "\n");
        if (keyFile is null)
        {
            return;
        }

        using var key = certificate.GetECDsaPrivateKey() ?? throw new ArgumentException("the certificate has no ECDSA private key.", nameof(certificate));
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(keyFile, options);
        using var writer = new StreamWriter(stream);
        writer.Write(key.ExportPkcs8PrivateKeyPem());
        writer.Write('\n');
    }

    /// <summary>
    /// Null when <paramref name="peer"/> may be this node's peer: issued by <paramref name="authority"/> (the chain is
    /// built against it alone), valid now, and naming one of <paramref name="acceptedRoles"/>; otherwise why not.
    /// </summary>
    public static string? Check(X509Certificate2 peer, X509Certificate2 authority, IReadOnlyCollection<string> acceptedRoles)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentNullException.ThrowIfNull(authority);
        ArgumentNullException.ThrowIfNull(acceptedRoles);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.NoFlag;
        if (!chain.Build(peer))
        {
            var status = string.Join(", ", chain.ChainStatus.Select(s => s.Status.ToString()).Distinct());
            return $"its certificate '{peer.Subject}' does not chain to the cluster CA ({status})";
        }

        var root = chain.ChainElements[^1].Certificate;
        if (!root.RawDataMemory.Span.SequenceEqual(authority.RawDataMemory.Span))
        {
            return $"its certificate '{peer.Subject}' chains to '{root.Subject}', not the cluster CA";
        }

        var identity = NodeIdentity.Of(peer);
        if (identity is null)
        {
            return $"its certificate '{peer.Subject}' names no Outpost node role";
        }

        return acceptedRoles.Contains(identity.Role)
            ? null
            : $"its certificate is for a {identity.Role} node, and only {string.Join(" or ", acceptedRoles)} nodes may connect here";
    }

    private static X500DistinguishedName DistinguishedName(string commonName, string organization)
    {
        var builder = new X500DistinguishedNameBuilder();
        builder.AddCommonName(commonName);
        builder.AddOrganizationName(organization);
        return builder.Build();
    }
}
