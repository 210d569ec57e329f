using System.Text;
using Microsoft.AspNetCore.Http.Features;

namespace Outpost.Gateway.Messages;

/// <summary>Writes server-sent events the way Anthropic's API does: <c>event:</c> and <c>data:</c> lines, flushed per event.</summary>
public static class ServerSentEvents
{
    public static void Start(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "text/event-stream; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
    }

    /// <summary>One event; <paramref name="json"/> is a single line of JSON, as every serializer here writes it.</summary>
    public static async Task WriteAsync(HttpContext context, string eventName, string json, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var frame = Encoding.UTF8.GetBytes($"event: {eventName}\ndata: {json}\n\n");
        await context.Response.Body.WriteAsync(frame, cancellationToken);
        await context.Response.Body.FlushAsync(cancellationToken);
    }
}
