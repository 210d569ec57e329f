using System.ComponentModel.DataAnnotations;

namespace Outpost.EdgeSilo.EdgeDevices;

/// <summary>Who this edge device is. Section <c>Edge</c>.</summary>
public sealed class EdgeOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Edge";

    /// <summary>The device id this silo serves; the key of its EdgeDevice grain. Required.</summary>
    [Required(ErrorMessage = "is missing: set it to this device's id, e.g. dev-pi-1.")]
    [RegularExpression("^[a-z0-9][a-z0-9-]{0,62}$", ErrorMessage = "must be 1-63 lower-case letters, digits or '-', starting with a letter or digit.")]
    public string DeviceId { get; set; } = "";

    /// <summary>How often the device tells the control plane it is alive.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "must be a time span from 00:00:01 to 01:00:00.")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the device asks its LLM backend which models it has, and re-registers when they changed.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "must be a time span from 00:00:01 to 1.00:00:00.")]
    public TimeSpan ModelRefreshInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Extra capability tags to advertise, e.g. <c>npu:hailo10h</c>.</summary>
    public List<string> Capabilities { get; set; } = [];
}
