namespace Outpost.Gateway.Errors;

/// <summary>
/// A failure that already knows its HTTP shape. Thrown below the endpoints (routing, validation) and written as
/// problem+json by <see cref="ClusterExceptionHandler"/>.
/// </summary>
public sealed class ProblemException : Exception
{
    public ProblemException()
    {
    }

    public ProblemException(string message)
        : base(message)
    {
    }

    public ProblemException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ProblemException(int status, string type, string title, string detail, TimeSpan? retryAfter = null)
        : base(detail)
    {
        Status = status;
        Type = type;
        Title = title;
        RetryAfter = retryAfter;
    }

    public int Status { get; } = StatusCodes.Status500InternalServerError;

    /// <summary>The problem type, relative to <see cref="Problems.TypeBase"/>.</summary>
    public string Type { get; } = "internal-error";

    public string Title { get; } = "Internal error";

    /// <summary>When set, sent as <c>Retry-After</c> (whole seconds, at least 1).</summary>
    public TimeSpan? RetryAfter { get; }

    public static ProblemException BadRequest(string detail) =>
        new(StatusCodes.Status400BadRequest, "invalid-request", "Invalid request", detail);
}
