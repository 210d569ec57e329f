using System.ComponentModel.DataAnnotations;

namespace Outpost.Identity.DeviceFlow;

/// <summary>The OAuth 2.0 Device Authorization Grant (RFC 8628). Section <c>Security:DeviceFlow</c>.</summary>
public sealed class DeviceFlowOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Security:DeviceFlow";

    /// <summary>How long a user code can be approved and its device code polled (<c>expires_in</c>).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "must be a time span from 00:00:01 to 01:00:00.")]
    public TimeSpan CodeLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The seconds a device must wait between polls (<c>interval</c>); each <c>slow_down</c> adds 5.</summary>
    [Range(1, 60, ErrorMessage = "must be from 1 to 60 seconds.")]
    public int IntervalSeconds { get; set; } = 5;
}
