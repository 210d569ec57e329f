using Microsoft.Extensions.Logging;

namespace Outpost.Testing.Cluster;

/// <summary>The shape of a test cluster.</summary>
public sealed class OutpostClusterSettings
{
    /// <summary>Edge silos started in this process, by device id.</summary>
    public IReadOnlyList<string> EdgeDevices { get; init; } = ["dev-pi-1", "dev-pi-2"];

    /// <summary>Short probes so that a killed silo is declared dead in seconds, not tens of seconds.</summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(1);

    public int MissedProbesLimit { get; init; } = 2;

    /// <summary>Extra configuration for every edge silo, e.g. <c>Inference:Hailo:BaseUrl</c> or queue limits.</summary>
    public IReadOnlyDictionary<string, string?> EdgeConfiguration { get; init; } = new Dictionary<string, string?>();

    /// <summary>Extra configuration for the control silo, e.g. <c>Audit:WitnessUrl</c>.</summary>
    public IReadOnlyDictionary<string, string?> ControlConfiguration { get; init; } = new Dictionary<string, string?>();

    /// <summary>Extra configuration for the gateway.</summary>
    public IReadOnlyDictionary<string, string?> GatewayConfiguration { get; init; } = new Dictionary<string, string?>();

    /// <summary>Set to see the cluster's logs on the console while debugging a test.</summary>
    public LogLevel? ConsoleLogLevel { get; init; }
}
