using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Outpost.ServiceDefaults.Configuration;

namespace Outpost.Identity.Tokens;

/// <summary>The <c>iss</c> of Outpost's own tokens, which is also the base URL of its OAuth endpoints.</summary>
public static class OutpostIssuer
{
    /// <summary>
    /// <c>Security:Issuer</c> without a trailing slash, or, when it is not set, the gateway's own HTTP address
    /// (<c>http://{Http:Address}:{Http:Port}</c>). Validation and issuance must both use this one string.
    /// </summary>
    public static string Resolve(SecurityOptions security, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(security);
        ArgumentNullException.ThrowIfNull(configuration);
        if (security.Issuer is { } issuer)
        {
            return issuer.GetLeftPart(UriPartial.Path).TrimEnd('/');
        }

        var http = configuration.GetSection(HttpEndpointOptions.Section).Get<HttpEndpointOptions>() ?? new HttpEndpointOptions();
        var port = configuration[$"{HttpEndpointOptions.Section}:{nameof(HttpEndpointOptions.Port)}"] is null
            ? HttpEndpointOptions.GatewayDefaultPort
            : http.Port;
        var host = IPAddress.TryParse(http.Address, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6
            ? $"[{address}]"
            : http.Address;
        return string.Create(CultureInfo.InvariantCulture, $"http://{host}:{port}");
    }
}
