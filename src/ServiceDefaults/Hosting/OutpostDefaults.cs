using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Outpost.ServiceDefaults.Configuration;

namespace Outpost.ServiceDefaults.Hosting;

/// <summary>What every Outpost process shares: log format and levels.</summary>
public static class OutpostDefaults
{
    public static IHostApplicationBuilder AddOutpostDefaults(this IHostApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
            o.UseUtcTimestamp = true;
        });
        // Orleans narrates its start-up at Information; operators want Outpost's own messages and Orleans' warnings.
        builder.Logging.AddFilter("Orleans", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Polly", LogLevel.Warning);
        // A failed start is reported once, as one line, by OutpostProcess; the host's own copy is a stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        return builder;
    }

    /// <summary>Binds Kestrel to the <c>Http</c> section's address and port (loopback by default).</summary>
    public static WebApplicationBuilder UseOutpostHttpEndpoint(this WebApplicationBuilder builder, int defaultPort)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var http = builder.Configuration.GetValidated<HttpEndpointOptions>(HttpEndpointOptions.Section);
        var port = builder.Configuration[$"{HttpEndpointOptions.Section}:Port"] is null ? defaultPort : http.Port;
        if (!IPAddress.TryParse(http.Address, out var address))
        {
            throw new StartupConfigurationException($"{HttpEndpointOptions.Section}:Address: '{http.Address}' is not an IP address.");
        }

        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(address, port));
        return builder;
    }
}
