namespace Outpost.Gateway.Messages;

/// <summary>
/// Writes every error on the <c>/v1/messages</c> route in Anthropic's shape (<c>{"type":"error","error":{...}}</c>) instead
/// of problem+json, so that an Anthropic client reads a refused key, a missing scope, a rate limit or an oversized body
/// the way it reads the API's own errors. Registered ahead of the default writer.
/// </summary>
internal sealed class MessagesProblemWriter : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.HttpContext.Request.Path.StartsWithSegments("/v1/messages", StringComparison.Ordinal);
    }

    public async ValueTask WriteAsync(ProblemDetailsContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var http = context.HttpContext;
        var status = context.ProblemDetails.Status ?? http.Response.StatusCode;
        var message = context.ProblemDetails.Detail ?? context.ProblemDetails.Title ?? "The request failed.";
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(MessagesErrors.Body(MessagesErrors.TypeFor(status), message).ToJsonString(), http.RequestAborted);
    }
}
