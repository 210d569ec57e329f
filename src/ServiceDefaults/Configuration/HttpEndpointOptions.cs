using System.ComponentModel.DataAnnotations;

namespace Outpost.ServiceDefaults.Configuration;

/// <summary>Where a process serves HTTP. Section <c>Http</c>.</summary>
public sealed class HttpEndpointOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Http";

    /// <summary>The gateway's port when <c>Http:Port</c> is not set.</summary>
    public const int GatewayDefaultPort = 8080;

    /// <summary>The control silo's port (dashboard and health) when <c>Http:Port</c> is not set.</summary>
    public const int ControlSiloDefaultPort = 8081;

    /// <summary>The address to listen on; loopback by default, because nothing is authenticated yet.</summary>
    [Required(ErrorMessage = "must be an IP address.")]
    [RegularExpression(@"^[0-9a-fA-F:.]+$", ErrorMessage = "must be an IP address.")]
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>The port; 0 picks a free one (tests).</summary>
    [Range(0, 65535, ErrorMessage = "must be a port number from 1 to 65535, or 0 for any free port.")]
    public int Port { get; set; }
}
