using System.Text.Json;
using System.Text.Json.Serialization;
using Outpost.Gateway.Security;

namespace Outpost.Gateway.Errors;

public static class ProblemExtensions
{
    /// <summary>
    /// How the gateway answers: snake_case JSON, and every failure as problem+json (the cluster's exceptions mapped to
    /// statuses, an unreadable body handed to the exception handler so that it names the field).
    /// </summary>
    public static WebApplicationBuilder AddProblemResponses(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
        {
            Problems.Complete(context.ProblemDetails);
            context.ProblemDetails.Extensions.Remove("exception");
        });
        builder.Services.AddExceptionHandler<ClusterExceptionHandler>();

        // Unreadable bodies must reach the exception handler, which names the field, in every environment.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);

        // A caller's mistake is answered, not logged as an application error.
        builder.Services.Configure<ExceptionHandlerOptions>(o => o.SuppressDiagnosticsCallback = context =>
            context.Exception is BadHttpRequestException or ProblemException or InsufficientScopeException);
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        });
        return builder;
    }
}
