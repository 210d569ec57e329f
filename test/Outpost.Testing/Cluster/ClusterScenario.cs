namespace Outpost.Testing.Cluster;

/// <summary>
/// What a shared cluster fixture starts: its edge devices, the stand-ins for the hardware and the cloud it needs, and
/// the configuration each process gets on top of <see cref="OutpostCluster"/>'s own.
/// </summary>
public sealed record ClusterScenario
{
    public IReadOnlyList<string> EdgeDevices { get; init; } = ["dev-pi-1", "dev-pi-2"];

    /// <summary>Start the HAT's LLM server stand-in and point every edge silo at it.</summary>
    public bool Hailo { get; init; }

    /// <summary>Start the Anthropic API stand-in and make it the gateway's cloud upstream.</summary>
    public bool Anthropic { get; init; }

    public IReadOnlyDictionary<string, string?> EdgeConfiguration { get; init; } = new Dictionary<string, string?>();

    public IReadOnlyDictionary<string, string?> GatewayConfiguration { get; init; } = new Dictionary<string, string?>();

    public IReadOnlyDictionary<string, string?> ControlConfiguration { get; init; } = new Dictionary<string, string?>();

    /// <summary>Per-client rate limits no test reaches, so that tests measure what they name and not throttling.</summary>
    public static IReadOnlyDictionary<string, string?> NoRateLimit { get; } = new Dictionary<string, string?>
    {
        ["Limits:RequestsPerSecond"] = "100000",
        ["Limits:Burst"] = "100000",
        ["Limits:AnonymousRequestsPerSecond"] = "100000",
    };
}
