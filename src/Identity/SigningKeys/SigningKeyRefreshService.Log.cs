namespace Outpost.Identity.SigningKeys;

internal sealed partial class SigningKeyRefreshService
{
    [LoggerMessage(EventId = 1, EventName = "SigningKeySchemaMissing", Level = LogLevel.Warning,
        Message = "The identity tables do not exist yet (the control silo migrates the schema); retrying")]
    private static partial void LogSchemaMissing(ILogger logger);

    [LoggerMessage(EventId = 2, EventName = "SigningKeyRefreshFailed", Level = LogLevel.Warning,
        Message = "Could not reread the signing keys; keeping the keys already loaded")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}
