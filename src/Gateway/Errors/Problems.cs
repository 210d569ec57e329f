using Microsoft.AspNetCore.Http.HttpResults;

namespace Outpost.Gateway.Errors;

/// <summary>
/// Builds the gateway's problem+json responses. Every <c>type</c> is a stable URI under <see cref="TypeBase"/>, so
/// clients can switch on it; titles are fixed per type and details say what went wrong this time.
/// </summary>
public static class Problems
{
    public const string TypeBase = "https://outpost.dev/problems/";

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
