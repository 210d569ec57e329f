using System.ComponentModel.DataAnnotations;

namespace Outpost.Gateway.Routing;

/// <summary>How the gateway picks devices. Section <c>Routing</c>.</summary>
public sealed class RoutingOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Routing";

    /// <summary>How often the gateway re-reads the device list (membership, models, reported load).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00", ErrorMessage = "must be a time span from 00:00:00.1 to 00:01:00.")]
    public TimeSpan CatalogRefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a device that failed a request is skipped, unless it is the only one left.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00", ErrorMessage = "must be a time span from 00:00:00 to 00:10:00.")]
    public TimeSpan FailurePenalty { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The Retry-After sent when every device was busy and none gave a better hint.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00", ErrorMessage = "must be a time span from 00:00:01 to 00:10:00.")]
    public TimeSpan DefaultRetryAfter { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How many online devices with models the router must see before <c>/readyz</c> says the gateway is ready (0: it
    /// is ready without any, and serves what needs no device). <c>./run.sh</c> sets it to the devices it starts.
    /// </summary>
    [Range(0, 10_000, ErrorMessage = "must be a whole number from 0 to 10000.")]
    public int ReadyMinDevices { get; set; }
}
