using System.ComponentModel.DataAnnotations;

namespace Outpost.ServiceDefaults.Configuration;

/// <summary>How a process finds and joins the Orleans cluster. Section <c>Cluster</c>.</summary>
public sealed class OutpostClusterOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Cluster";

    /// <summary>Name of this deployment of the cluster; silos and clients with different ids never meet.</summary>
    [Required(ErrorMessage = "must name the cluster.")]
    [RegularExpression("^[A-Za-z0-9._-]{1,100}$", ErrorMessage = "must be 1-100 letters, digits, '.', '_' or '-'.")]
    public string ClusterId { get; set; } = "outpost";

    /// <summary>Name of the service; grain state and reminders are stored under it, so it must not change.</summary>
    [Required(ErrorMessage = "must name the service.")]
    [RegularExpression("^[A-Za-z0-9._-]{1,100}$", ErrorMessage = "must be 1-100 letters, digits, '.', '_' or '-'.")]
    public string ServiceId { get; set; } = "outpost";

    /// <summary>The address other silos and clients use to reach this silo.</summary>
    [Required(ErrorMessage = "must be an IP address.")]
    [RegularExpression(@"^[0-9a-fA-F:.]+$", ErrorMessage = "must be an IP address.")]
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>The silo-to-silo port.</summary>
    [Range(1, 65535, ErrorMessage = "must be a port number from 1 to 65535.")]
    public int SiloPort { get; set; } = 11111;

    /// <summary>The port clients (the gateway) connect to; 0 means this silo accepts no clients.</summary>
    [Range(0, 65535, ErrorMessage = "must be a port number from 1 to 65535, or 0 for none.")]
    public int GatewayPort { get; set; } = 30000;

    /// <summary>How long one liveness probe may take before it counts as missed.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00", ErrorMessage = "must be a time span from 00:00:00.1 to 00:10:00.")]
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Missed probes after which a silo is suspected dead. A stopped silo turns offline after roughly
    /// <see cref="ProbeTimeout"/> times this; a silo that stops cleanly turns offline at once.
    /// </summary>
    [Range(1, 10, ErrorMessage = "must be from 1 to 10.")]
    public int MissedProbesLimit { get; set; } = 3;

    /// <summary>
    /// How long a grain call may go unanswered before it fails. Calls that legitimately take longer (a whole generation on
    /// a device's one-at-a-time LLM) declare their own, longer, timeout.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00", ErrorMessage = "must be a time span from 00:00:01 to 00:10:00.")]
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The membership timeout this configuration implies.</summary>
    public TimeSpan MembershipTimeout => ProbeTimeout * MissedProbesLimit;
}
