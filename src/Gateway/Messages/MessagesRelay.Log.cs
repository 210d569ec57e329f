namespace Outpost.Gateway.Messages;

public sealed partial class MessagesRelay
{
    [LoggerMessage(EventId = 62, EventName = "MessagesRequestFailed", Level = LogLevel.Error, Message = "POST /v1/messages failed")]
    private static partial void LogRequestFailed(ILogger logger, Exception exception);
}
