using Outpost.ServiceDefaults.Configuration;

namespace Outpost.Gateway.Diagnostics;

public static class DiagnosticsExtensions
{
    /// <summary>The <c>Diagnostics</c> options (whether responses carry <c>Server-Timing</c>).</summary>
    public static WebApplicationBuilder AddGatewayDiagnostics(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddValidatedOptions<DiagnosticsOptions>(DiagnosticsOptions.Section);
        return builder;
    }
}
