namespace Outpost.Gateway.Contracts;

/// <summary>How busy a device was at its last heartbeat.</summary>
public sealed record DeviceLoadResponse(
    int EmbeddingQueueDepth,
    int GenerationQueueDepth,
    double EmbeddingLatencyMs,
    double GenerationLatencyMs,
    int LastBatchSize);
