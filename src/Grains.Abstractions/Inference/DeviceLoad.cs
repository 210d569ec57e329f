namespace Outpost.Grains.Inference;

/// <summary>How busy a device is, for the router and for operators.</summary>
/// <param name="EmbeddingQueueDepth">Texts waiting for the embedding model.</param>
/// <param name="GenerationQueueDepth">Completions waiting for (or running on) the LLM backend.</param>
/// <param name="EmbeddingLatencyMs">Recent time from enqueue to result for one embedding request (moving average).</param>
/// <param name="GenerationLatencyMs">Recent time per completion (moving average).</param>
/// <param name="LastBatchSize">Size of the last embedding batch the model ran.</param>
/// <param name="TasksRunning">Task runs in the sandbox now.</param>
/// <param name="TasksQueued">Task runs accepted and waiting for a sandbox slot.</param>
[GenerateSerializer, Immutable, Alias("outpost.DeviceLoad")]
public sealed record DeviceLoad(
    [property: Id(0)] int EmbeddingQueueDepth,
    [property: Id(1)] int GenerationQueueDepth,
    [property: Id(2)] double EmbeddingLatencyMs,
    [property: Id(3)] double GenerationLatencyMs,
    [property: Id(4)] int LastBatchSize,
    [property: Id(5)] int TasksRunning = 0,
    [property: Id(6)] int TasksQueued = 0)
{
    public static DeviceLoad Idle { get; } = new(0, 0, 0, 0, 0);
}
