namespace Outpost.Gateway.Diagnostics;

/// <summary>Whether responses say where their time went. Section <c>Diagnostics</c>.</summary>
public sealed class DiagnosticsOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Diagnostics";

    /// <summary>
    /// Adds W3C <c>Server-Timing</c> metrics (audit, quota, cache, device) to responses. Off by default: the timings
    /// describe the deployment's insides to every caller; <c>./run.sh</c> turns it on for development and benchmarks.
    /// </summary>
    public bool ServerTiming { get; set; }
}
