using Microsoft.AspNetCore.Diagnostics;
using Outpost.Grains.EdgeDevices;

namespace Outpost.Gateway.Errors;

/// <summary>
/// Turns failures of the cluster into problem+json: a missing device or an unreachable cluster is a 503 the client
/// can retry; anything else is a 500 with no detail, because details of a bug are for the log, not the caller.
/// </summary>
internal sealed partial class ClusterExceptionHandler(IProblemDetailsService problemDetails, ILogger<ClusterExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is Security.InsufficientScopeException insufficient)
        {
            await Security.ProblemAuthorizationResultHandler.WriteInsufficientScopeAsync(httpContext, insufficient.Scope);
            return true;
        }

        var retryAfter = (exception as ProblemException)?.RetryAfter;
        var (status, type, title, detail) = exception switch
        {
            ProblemException ex => (ex.Status, ex.Type, ex.Title, ex.Message),
            DeviceUnavailableException ex => (StatusCodes.Status503ServiceUnavailable, "device-unavailable", "Device unavailable", ex.Message),
            SiloUnavailableException or OrleansMessageRejectionException or TimeoutException =>
                (StatusCodes.Status503ServiceUnavailable, "cluster-unavailable", "Cluster unavailable", "The Outpost cluster did not answer in time; retry shortly."),
            // GetGrain throws this while the client's copy of the cluster manifest has no silo that hosts the grain:
            // a control silo restarting, or one that joined moments ago. The next manifest refresh ends it.
            ArgumentException { Source: "Orleans.Core" } =>
                (StatusCodes.Status503ServiceUnavailable, "cluster-unavailable", "Cluster unavailable", "No silo of the Outpost cluster hosts this service right now; retry shortly."),
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
                (StatusCodes.Status413PayloadTooLarge, "payload-too-large", "Payload too large", "The request body is larger than this endpoint accepts."),
            BadHttpRequestException ex => (ex.StatusCode, "invalid-request", "Invalid request", Describe(ex)),
            _ => (StatusCodes.Status500InternalServerError, "internal-error", "Internal error", "The request failed inside Outpost; the error was logged."),
        };

        if (AuditLogs.AuditFeature.Of(httpContext) is { } audit)
        {
            if (AuditLogs.AuditFeature.IsDenial(status))
            {
                audit.Deny(type, detail);
            }
            else
            {
                audit.Explain(status >= 500 && exception is not ProblemException ? type : detail);
            }
        }

        if (status >= 500)
        {
            LogRequestFailed(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
        }

        if (retryAfter is not null || status is StatusCodes.Status503ServiceUnavailable or StatusCodes.Status429TooManyRequests)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling((retryAfter ?? TimeSpan.FromSeconds(5)).TotalSeconds));
            httpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        httpContext.Response.StatusCode = status;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = status, Type = Problems.TypeBase + type, Title = title, Detail = detail },
        });
    }

    /// <summary>The body-binding failure, naming the JSON path when there is one, never echoing the input.</summary>
    private static string Describe(BadHttpRequestException ex) => ex.InnerException switch
    {
        System.Text.Json.JsonException { Path: { } path } => $"The request body is not valid for this endpoint at {path}.",
        System.Text.Json.JsonException => "The request body is not valid JSON.",
        _ => ex.Message,
    };

    [LoggerMessage(EventId = 1, EventName = "RequestFailed", Level = LogLevel.Error, Message = "{Method} {Path} failed")]
    private static partial void LogRequestFailed(ILogger logger, Exception exception, string method, string path);
}
