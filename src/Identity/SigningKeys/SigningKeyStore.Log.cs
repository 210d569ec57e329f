namespace Outpost.Identity.SigningKeys;

public sealed partial class SigningKeyStore
{
    [LoggerMessage(EventId = 1, EventName = "SigningKeyCreated", Level = LogLevel.Information,
        Message = "Created signing key {Kid}; it is the active key")]
    private static partial void LogKeyCreated(ILogger logger, string kid);

    [LoggerMessage(EventId = 2, EventName = "SigningKeyRotated", Level = LogLevel.Information,
        Message = "Rotated signing keys: {Kid} is active, {PreviousKid} is retired and keeps verifying until its tokens expire")]
    private static partial void LogKeyRotated(ILogger logger, string kid, string? previousKid);

    [LoggerMessage(EventId = 3, EventName = "SigningKeyRemoved", Level = LogLevel.Warning,
        Message = "Removed signing key {Kid}; tokens it signed are refused from now on")]
    private static partial void LogKeyRemoved(ILogger logger, string kid);

    [LoggerMessage(EventId = 4, EventName = "SigningKeyExpired", Level = LogLevel.Information,
        Message = "Removed retired signing key {Kid}: every token it signed has expired")]
    private static partial void LogKeyExpired(ILogger logger, string kid);

    [LoggerMessage(EventId = 5, EventName = "SigningKeyUnsupported", Level = LogLevel.Warning,
        Message = "Ignoring signing key {Kid} with unsupported algorithm {Algorithm}")]
    private static partial void LogUnsupportedKey(ILogger logger, string kid, string algorithm);
}
