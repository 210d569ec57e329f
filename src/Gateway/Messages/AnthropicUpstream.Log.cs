namespace Outpost.Gateway.Messages;

public sealed partial class AnthropicUpstream
{
    [LoggerMessage(EventId = 60, EventName = "UpstreamFailed", Level = LogLevel.Warning, Message = "The cloud upstream failed after retries: {Status} {ErrorType}")]
    private static partial void LogUpstreamFailed(ILogger logger, int status, string errorType);

    [LoggerMessage(EventId = 61, EventName = "UpstreamRefusedKey", Level = LogLevel.Error, Message = "The cloud upstream refused the configured API key ({Status}); check Cloud:Anthropic:ApiKey")]
    private static partial void LogUpstreamRefusedKey(ILogger logger, int status);
}
