using Microsoft.AspNetCore.Authentication.JwtBearer;
using Outpost.ServiceDefaults.Configuration;

namespace Outpost.Gateway.Messages;

public static class MessagesServiceExtensions
{
    /// <summary>The Anthropic-compatible <c>/v1/messages</c> route's services and its cloud upstream.</summary>
    public static WebApplicationBuilder AddMessages(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddValidatedOptions<AnthropicUpstreamOptions>(AnthropicUpstreamOptions.Section);
        builder.Services.AddSingleton<AnthropicUpstream>();
        builder.Services.AddSingleton<MessagesRelay>();

        // First among the problem writers: the default one would answer this route in problem+json.
        builder.Services.Insert(0, ServiceDescriptor.Singleton<IProblemDetailsWriter, MessagesProblemWriter>());

        // Anthropic clients send their key either as a bearer token or as x-api-key: on this route, take either.
        builder.Services.PostConfigure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, o =>
        {
            o.Events ??= new JwtBearerEvents();
            var previous = o.Events.OnMessageReceived;
            o.Events.OnMessageReceived = async context =>
            {
                await previous(context);
                if (context.Token is null
                    && context.Request.Path.StartsWithSegments("/v1/messages", StringComparison.Ordinal)
                    && !context.Request.Headers.ContainsKey("Authorization")
                    && context.Request.Headers["x-api-key"].ToString() is { Length: > 0 } key)
                {
                    context.Token = key;
                }
            };
        });
        return builder;
    }
}
