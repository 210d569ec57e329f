namespace Outpost.ServiceDefaults.ClusterTls;

/// <summary>
/// Mutual TLS between the cluster's nodes (silos and the gateway's client). Section <c>Cluster:Tls</c>. Every node
/// presents a certificate issued by the cluster CA that names its role (<see cref="NodeIdentity"/>) and accepts only
/// peers whose certificates do; a node without one cannot join. <c>outpost cluster ca create</c> and
/// <c>outpost cluster cert issue</c> make them; <c>./run.sh</c> does for development.
/// </summary>
public sealed class ClusterTlsOptions
{
    public const string Section = "Cluster:Tls";

    /// <summary>The cluster CA's certificate (PEM): the only issuer a peer's certificate may chain to.</summary>
    public string? CaFile { get; set; }

    /// <summary>This node's certificate (PEM).</summary>
    public string? CertificateFile { get; set; }

    /// <summary>This node's private key (PEM, PKCS#8), readable only by the service's user.</summary>
    public string? KeyFile { get; set; }

    /// <summary>
    /// Turns cluster TLS off: every node then talks plain TCP and anyone who reaches a port is a member. Only for a
    /// cluster on one machine that nobody else can reach; a node started this way logs a warning.
    /// </summary>
    public bool Disabled { get; set; }
}
