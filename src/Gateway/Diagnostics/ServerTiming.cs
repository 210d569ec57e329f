using System.Globalization;
using Microsoft.Extensions.Options;

namespace Outpost.Gateway.Diagnostics;

/// <summary>Appends one <c>Server-Timing</c> metric to a response, when <see cref="DiagnosticsOptions.ServerTiming"/> is on.</summary>
public static class ServerTiming
{
    public static void Add(HttpContext context, string metric, TimeSpan duration)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Response.HasStarted
            || !context.RequestServices.GetRequiredService<IOptions<DiagnosticsOptions>>().Value.ServerTiming)
        {
            return;
        }

        context.Response.Headers.Append(
            "Server-Timing", string.Create(CultureInfo.InvariantCulture, $"{metric};dur={duration.TotalMilliseconds:F3}"));
    }
}
