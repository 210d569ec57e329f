using Outpost.Testing;
using Outpost.Testing.Cluster;
using Outpost.Testing.Hailo;
using Outpost.Testing.PostgreSql;
using Xunit;

namespace Outpost.Gateway.Tests.Inference;

/// <summary>
/// A one-device cluster with tight queues: at most 4 texts waiting for the embedding model (in batches of 4), 20
/// completions waiting for the LLM, served by a stand-in for the HAT's server. No cache, so every request queues, and
/// no rate limit, so the gateway passes the whole burst on to the device.
/// </summary>
public sealed class QueueLimitClusterFixture : IAsyncLifetime
{
    public const string DeviceId = "dev-pi-1";

    private PostgreSqlServer? _postgres;
    private FakeHailoOllamaServer? _hailo;
    private OutpostCluster? _cluster;

    public PostgreSqlServer Postgres => _postgres ?? throw new InvalidOperationException("Not initialized.");

    public FakeHailoOllamaServer Hailo => _hailo ?? throw new InvalidOperationException("Not initialized.");

    public OutpostCluster Cluster => _cluster ?? throw new InvalidOperationException("Not initialized.");

    /// <summary>The gateway's configuration for these load tests: no embedding cache, no per-client rate limit.</summary>
    public static Dictionary<string, string?> LoadGatewayConfiguration => new(InferenceApi.NoRateLimit) { ["Embeddings:Cache:Enabled"] = "false" };

    public async Task InitializeAsync()
    {
        _postgres = await PostgreSqlServer.StartAsync();
        _hailo = await FakeHailoOllamaServer.StartAsync();
        _cluster = await OutpostCluster.StartAsync(_postgres, new OutpostClusterSettings
        {
            EdgeDevices = [DeviceId],
            EdgeConfiguration = new Dictionary<string, string?>
            {
                ["Inference:Queue:MaxEmbeddingQueueDepth"] = "4",
                ["Inference:Queue:MaxBatchSize"] = "4",
                ["Inference:Queue:MaxGenerationQueueDepth"] = "20",
                ["Inference:Hailo:BaseUrl"] = _hailo.BaseUrl.ToString(),
            },
            GatewayConfiguration = LoadGatewayConfiguration,
        });
    }

    public Task DisposeAsync() => Disposal.DisposeInOrderAsync(_cluster, _hailo, _postgres);
}
