namespace Outpost.EdgeSilo.Inference;

public sealed partial class EmbeddingQueue
{
    [LoggerMessage(EventId = 10, EventName = "EmbeddingBatchFailed", Level = LogLevel.Error, Message = "An embedding batch of {Count} texts failed")]
    private static partial void LogBatchFailed(ILogger logger, Exception exception, int count);
}
