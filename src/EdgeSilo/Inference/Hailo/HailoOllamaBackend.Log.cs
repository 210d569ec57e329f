namespace Outpost.EdgeSilo.Inference.Hailo;

public sealed partial class HailoOllamaBackend
{
    [LoggerMessage(EventId = 1, EventName = "HailoModelsChanged", Level = LogLevel.Information,
        Message = "hailo-ollama serves {Count} models: {Models}")]
    private static partial void LogModelsChanged(ILogger logger, int count, IReadOnlyList<string> models);

    [LoggerMessage(EventId = 2, EventName = "HailoGenerationStarted", Level = LogLevel.Debug,
        Message = "Generating with {Model} on hailo-ollama ({MessageCount} messages, at most {MaxTokens} tokens)")]
    private static partial void LogGenerationStarted(ILogger logger, string model, int messageCount, int maxTokens);

    [LoggerMessage(EventId = 3, EventName = "HailoGenerationCompleted", Level = LogLevel.Debug,
        Message = "Generated with {Model} on hailo-ollama: {PromptTokens} prompt tokens, {CompletionTokens} completion tokens, stop reason {StopReason}, {ElapsedMilliseconds:F0} ms")]
    private static partial void LogGenerationCompleted(
        ILogger logger, string model, int promptTokens, int completionTokens, string? stopReason, double elapsedMilliseconds);

    [LoggerMessage(EventId = 4, EventName = "HailoServerError", Level = LogLevel.Warning,
        Message = "hailo-ollama answered {StatusCode}: {Error}")]
    private static partial void LogServerError(ILogger logger, int statusCode, string error);

    [LoggerMessage(EventId = 5, EventName = "HailoStreamError", Level = LogLevel.Warning,
        Message = "hailo-ollama failed mid-stream: {Error}")]
    private static partial void LogStreamError(ILogger logger, string error);

    [LoggerMessage(EventId = 6, EventName = "HailoGenerationAbandoned", Level = LogLevel.Debug,
        Message = "Closing the connection to hailo-ollama under an unfinished completion with {Model}, so that the server stops")]
    private static partial void LogGenerationAbandoned(ILogger logger, string model);
}
