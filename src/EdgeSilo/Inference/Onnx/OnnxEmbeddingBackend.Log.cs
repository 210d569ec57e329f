namespace Outpost.EdgeSilo.Inference.Onnx;

public sealed partial class OnnxEmbeddingBackend
{
    [LoggerMessage(EventId = 20, EventName = "EmbeddingModelLoaded", Level = LogLevel.Information,
        Message = "Embedding model {Model} loaded from {Path} in {ElapsedMs} ms: {Dimensions} dimensions, {Threads} threads, window {MaxInputTokens} tokens")]
    private static partial void LogModelLoaded(ILogger logger, string model, string path, long elapsedMs, int dimensions, int threads, int maxInputTokens);
}
