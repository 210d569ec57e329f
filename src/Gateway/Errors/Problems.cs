using Microsoft.AspNetCore.Http.HttpResults;

namespace Outpost.Gateway.Errors;

/// <summary>
/// Builds the gateway's problem+json responses. Every <c>type</c> is a stable URI under <see cref="TypeBase"/>, so
/// clients can switch on it; titles are fixed per type and details say what went wrong this time.
/// </summary>
public static class Problems
{
    public const string TypeBase = "https://outpost.dev/problems/";

    /// <summary>
    /// Gives a problem the framework wrote from a bare status (no route, a body over its cap, a request timeout, ...)
    /// the gateway's own type, title and detail, so that no error carries a generic RFC type a client cannot switch on.
    /// </summary>
    public static void Complete(Microsoft.AspNetCore.Mvc.ProblemDetails problem)
    {
        ArgumentNullException.ThrowIfNull(problem);
        if (problem.Type is { } type && type.StartsWith(TypeBase, StringComparison.Ordinal))
        {
            return;
        }

        var status = problem.Status ?? StatusCodes.Status500InternalServerError;
        var (slug, title, detail) = ForStatus(status);
        problem.Type = TypeBase + slug;
        problem.Title = title;
        problem.Detail ??= detail;
    }

    private static (string Type, string Title, string Detail) ForStatus(int status) => status switch
    {
        StatusCodes.Status400BadRequest => ("bad-request", "Bad request", "The request is malformed."),
        StatusCodes.Status404NotFound => ("not-found", "Not found", "Nothing is served at this path."),
        StatusCodes.Status405MethodNotAllowed => ("method-not-allowed", "Method not allowed", "This path does not accept this method; see the Allow header."),
        StatusCodes.Status408RequestTimeout => ("request-timeout", "Request timeout", "The request was not received in time."),
        StatusCodes.Status413PayloadTooLarge => ("payload-too-large", "Payload too large", "The request body is larger than this endpoint accepts."),
        StatusCodes.Status415UnsupportedMediaType => ("unsupported-media-type", "Unsupported media type", "This endpoint accepts application/json."),
        StatusCodes.Status500InternalServerError => ("internal-error", "Internal error", "The gateway failed to answer; the request id identifies it in the logs."),
        StatusCodes.Status503ServiceUnavailable => ("service-unavailable", "Service unavailable", "The gateway cannot serve this now; retry shortly."),
        StatusCodes.Status504GatewayTimeout => ("request-timeout", "Request timed out", "The request took longer than the gateway allows."),
        _ => ("http-" + status.ToString(System.Globalization.CultureInfo.InvariantCulture), ReasonPhrase(status), ReasonPhrase(status) + "."),
    };

    private static string ReasonPhrase(int status) =>
        Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : "Error " + status;

    public static ProblemHttpResult NotFound(string type, string title, string detail) =>
        Create(StatusCodes.Status404NotFound, type, title, detail);

    public static ProblemHttpResult Create(int status, string type, string title, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title, type: TypeBase + type);

    /// <summary>Writes a problem+json response from middleware, outside any endpoint.</summary>
    public static async Task WriteAsync(HttpContext context, int status, string type, string title, string detail)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.StatusCode = status;
        var service = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await service.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = status, Type = TypeBase + type, Title = title, Detail = detail },
        });
    }
}
