using Outpost.Gateway.Messages;
using Outpost.Identity;

namespace Outpost.Gateway.Endpoints;

/// <summary>
/// <c>POST /v1/messages</c>: Anthropic's Messages API, served by edge models or relayed to the cloud. Unlike the rest
/// of the gateway it answers errors in Anthropic's shape, not problem+json, because its callers are Anthropic clients
/// (see <see cref="MessagesErrors"/>). Authentication and scope refusals happen before the handler and keep the
/// gateway's shape.
/// </summary>
public static class MessagesEndpoints
{
    public static IEndpointRouteBuilder MapMessagesApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGroup("/v1/messages").WithTags("Messages")
            .MapPost("/", CreateAsync)
            .RequireAuthorization(Scopes.InferCreate)
            .WithName("CreateMessage")
            .WithSummary("Creates a model response (Anthropic Messages API), on an edge device or the cloud upstream.");
        return endpoints;
    }

    public static Task CreateAsync(HttpContext context, MessagesRelay relay)
    {
        ArgumentNullException.ThrowIfNull(relay);
        return relay.HandleAsync(context);
    }
}
