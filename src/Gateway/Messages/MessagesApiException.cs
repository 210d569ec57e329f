namespace Outpost.Gateway.Messages;

/// <summary>A failure of <c>/v1/messages</c>, already in Anthropic's terms: an HTTP status and an error type.</summary>
public sealed class MessagesApiException : Exception
{
    public MessagesApiException()
    {
    }

    public MessagesApiException(string message)
        : base(message)
    {
    }

    public MessagesApiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public MessagesApiException(int status, string errorType, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Status = status;
        ErrorType = errorType;
    }

    public int Status { get; } = StatusCodes.Status500InternalServerError;

    /// <summary>Anthropic's error type, e.g. <c>invalid_request_error</c> or <c>overloaded_error</c>.</summary>
    public string ErrorType { get; } = MessagesErrors.ApiError;

    public static MessagesApiException Invalid(string message) =>
        new(StatusCodes.Status400BadRequest, MessagesErrors.InvalidRequest, message);
}
