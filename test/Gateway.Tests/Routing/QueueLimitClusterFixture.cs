using Outpost.Testing.Cluster;

namespace Outpost.Gateway.Tests.Routing;

/// <summary>
/// A one-device cluster with tight queues: at most 4 texts waiting for the embedding model (in batches of 4), 20
/// completions waiting for the LLM, served by a stand-in for the HAT's server. No cache, so every request queues, and
/// no rate limit, so the gateway passes the whole burst on to the device.
/// </summary>
public sealed class QueueLimitClusterFixture() : OutpostClusterFixture(new ClusterScenario
{
    EdgeDevices = [DeviceId],
    Hailo = true,
    EdgeConfiguration = new Dictionary<string, string?>
    {
        ["Inference:Queue:MaxEmbeddingQueueDepth"] = "4",
        ["Inference:Queue:MaxBatchSize"] = "4",
        ["Inference:Queue:MaxGenerationQueueDepth"] = "20",
    },
    GatewayConfiguration = LoadGatewayConfiguration,
})
{
    public const string DeviceId = "dev-pi-1";

    /// <summary>The gateway's configuration for these load tests: no embedding cache, no per-client rate limit.</summary>
    public static Dictionary<string, string?> LoadGatewayConfiguration => new(ClusterScenario.NoRateLimit) { ["Embeddings:Cache:Enabled"] = "false" };
}
