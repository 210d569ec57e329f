using System.Globalization;
using System.Text.Json.Nodes;
using Outpost.Gateway.Errors;

namespace Outpost.Gateway.Messages;

/// <summary>
/// Anthropic's error shapes. <c>/v1/messages</c> answers errors as Anthropic does,
/// <c>{"type":"error","error":{"type":...,"message":...}}</c>, not as problem+json like the rest of the gateway, because
/// its clients are Anthropic SDKs that parse that shape (and pick their exception type from the status).
/// </summary>
public static class MessagesErrors
{
    public const string InvalidRequest = "invalid_request_error";
    public const string Authentication = "authentication_error";
    public const string Permission = "permission_error";
    public const string NotFound = "not_found_error";
    public const string RequestTooLarge = "request_too_large";
    public const string RateLimit = "rate_limit_error";
    public const string Billing = "billing_error";
    public const string ApiError = "api_error";
    public const string Timeout = "timeout_error";
    public const string Overloaded = "overloaded_error";

    /// <summary>The error type Anthropic uses for an HTTP status.</summary>
    public static string TypeFor(int status) => status switch
    {
        401 => Authentication,
        402 => Billing,
        403 => Permission,
        404 => NotFound,
        413 => RequestTooLarge,
        429 => RateLimit,
        503 or 529 => Overloaded,
        504 => Timeout,
        >= 400 and < 500 => InvalidRequest,
        _ => ApiError,
    };

    /// <summary>A refusal of the gateway (budget, opt-in, routing) in Anthropic's terms; the status is kept.</summary>
    public static MessagesApiException FromProblem(ProblemException problem)
    {
        ArgumentNullException.ThrowIfNull(problem);
        return new MessagesApiException(problem.Status, TypeFor(problem.Status), problem.Message, problem);
    }

    public static JsonObject Body(string errorType, string message) => new()
    {
        ["type"] = "error",
        ["error"] = new JsonObject { ["type"] = errorType, ["message"] = message },
    };

    /// <summary>Writes the error as the whole response; only possible before the response has started.</summary>
    public static async Task WriteAsync(HttpContext context, MessagesApiException error, TimeSpan? retryAfter = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(error);
        context.Response.StatusCode = error.Status;
        if (retryAfter is { } wait)
        {
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(Body(error.ErrorType, error.Message).ToJsonString(), context.RequestAborted);
    }
}
