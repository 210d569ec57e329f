namespace Outpost.EdgeSilo.Inference.Onnx;

public sealed partial class OnnxEmbeddingBackend
{
    [LoggerMessage(EventId = 20, EventName = "EmbeddingModelLoaded", Level = LogLevel.Information,
        Message = "Embedding model {Model} loaded from {Path} in {ElapsedMs} ms: {Dimensions} dimensions, {Threads} threads, window {MaxInputTokens} tokens")]
    private static partial void LogModelLoaded(ILogger logger, string model, string path, long elapsedMs, int dimensions, int threads, int maxInputTokens);

    [LoggerMessage(EventId = 21, EventName = "EmbeddingModelExtracted", Level = LogLevel.Information,
        Message = "Built-in embedding model extracted to {Path} in {ElapsedMs} ms")]
    private static partial void LogModelExtracted(ILogger logger, string path, long elapsedMs);

    [LoggerMessage(EventId = 22, EventName = "EmbeddingModelCacheCorrupt", Level = LogLevel.Warning,
        Message = "The cached embedding model at {Path} does not match its SHA-256; extracting it again")]
    private static partial void LogCachedModelCorrupt(ILogger logger, string path);
}
