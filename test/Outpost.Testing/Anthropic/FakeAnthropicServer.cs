using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Outpost.Testing.Anthropic;

/// <summary>How <see cref="FakeAnthropicServer"/> fails a request it was told to fail.</summary>
public enum FakeAnthropicFailure
{
    /// <summary>529 <c>overloaded_error</c>, as Anthropic answers under load.</summary>
    Overloaded,

    /// <summary>500 <c>api_error</c>.</summary>
    ServerError,

    /// <summary>No answer at all until the client gives up.</summary>
    Timeout,

    /// <summary>A stream whose deltas come one per second.</summary>
    SlowStream,

    /// <summary>A stream that sends every delta, then drops the connection: no <c>message_delta</c>, no <c>message_stop</c>.</summary>
    CutAfterDeltas,
}

/// <summary>
/// A stand-in for Anthropic's Messages API on loopback: <c>POST /v1/messages</c>, answered as JSON or as server-sent
/// events exactly as the real API frames them. The answer is deterministic, <c>cloud echo: </c> and the last user text,
/// one word per token; usage counts words (input: every text of the request, output: the reply). It counts requests,
/// keeps the last request's headers and body, and can be told to fail the next requests.
/// </summary>
public sealed class FakeAnthropicServer : IAsyncDisposable
{
    public const string ReplyPrefix = "cloud echo:";

    private readonly WebApplication _app;
    private readonly Lock _gate = new();
    private readonly Queue<FakeAnthropicFailure> _failures = new();
    private int _totalRequests;
    private IReadOnlyDictionary<string, string> _lastHeaders = new Dictionary<string, string>();
    private string? _lastBody;

    private FakeAnthropicServer()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Services.AddRoutingCore();
        _app = builder.Build();
        _app.MapPost("/v1/messages", MessagesAsync);
    }

    /// <summary>Where the server listens, e.g. <c>http://127.0.0.1:41234</c> (no trailing slash, as SDK base URLs are written).</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary>Every request received, failed ones included.</summary>
    public int TotalRequests
    {
        get
        {
            lock (_gate)
            {
                return _totalRequests;
            }
        }
    }

    /// <summary>The last request's headers (names in lower case).</summary>
    public IReadOnlyDictionary<string, string> LastRequestHeaders
    {
        get
        {
            lock (_gate)
            {
                return _lastHeaders;
            }
        }
    }

    public string? LastRequestBody
    {
        get
        {
            lock (_gate)
            {
                return _lastBody;
            }
        }
    }

    public static async Task<FakeAnthropicServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var server = new FakeAnthropicServer();
        await server._app.StartAsync(cancellationToken);
        server.BaseUrl = server._app.Services.GetRequiredService<IServer>()
            .Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single().TrimEnd('/');
        return server;
    }

    /// <summary>Fails the next <paramref name="count"/> requests the way <paramref name="failure"/> says.</summary>
    public void FailNext(int count, FakeAnthropicFailure failure)
    {
        lock (_gate)
        {
            for (var i = 0; i < count; i++)
            {
                _failures.Enqueue(failure);
            }
        }
    }

    /// <summary>Counts words the way the stand-in counts tokens.</summary>
    public static int Words(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task MessagesAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var body = Encoding.UTF8.GetString(buffer.ToArray());
        FakeAnthropicFailure? failure = null;
        lock (_gate)
        {
            _totalRequests++;
            _lastBody = body;
            _lastHeaders = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString(), StringComparer.Ordinal);
            if (_failures.Count > 0)
            {
                failure = _failures.Dequeue();
            }
        }

        switch (failure)
        {
            case FakeAnthropicFailure.Overloaded:
                await ErrorAsync(context, 529, "overloaded_error", "Overloaded");
                return;
            case FakeAnthropicFailure.ServerError:
                await ErrorAsync(context, 500, "api_error", "Internal server error");
                return;
            case FakeAnthropicFailure.Timeout:
                await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                return;
        }

        var slow = failure == FakeAnthropicFailure.SlowStream;
        var cut = failure == FakeAnthropicFailure.CutAfterDeltas;

        if (context.Request.Headers["x-api-key"].Count == 0 && !context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.Ordinal))
        {
            await ErrorAsync(context, 401, "authentication_error", "invalid x-api-key");
            return;
        }

        JsonElement request;
        try
        {
            request = JsonDocument.Parse(body).RootElement;
        }
        catch (JsonException)
        {
            await ErrorAsync(context, 400, "invalid_request_error", "The request body is not valid JSON.");
            return;
        }

        if (!request.TryGetProperty("model", out var modelValue) || modelValue.GetString() is not { Length: > 0 } model
            || !request.TryGetProperty("max_tokens", out var maxValue) || !maxValue.TryGetInt32(out var maxTokens) || maxTokens < 1
            || !request.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
        {
            await ErrorAsync(context, 400, "invalid_request_error", "model, max_tokens and messages are required.");
            return;
        }

        var texts = new List<(string Role, string Text)>();
        foreach (var message in messages.EnumerateArray())
        {
            texts.Add((message.GetProperty("role").GetString()!, Text(message.GetProperty("content"))));
        }

        var system = request.TryGetProperty("system", out var systemValue) ? Text(systemValue) : "";
        var inputTokens = Words(system) + texts.Sum(t => Words(t.Text));
        var words = $"{ReplyPrefix} {texts.LastOrDefault(t => t.Role == "user").Text}".Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var stopReason = words.Length > maxTokens ? "max_tokens" : "end_turn";
        var tokens = words.Take(maxTokens).Select((word, i) => i == 0 ? word : " " + word).ToList();
        var id = "msg_fake" + Guid.NewGuid().ToString("N")[..16];
        var stream = request.TryGetProperty("stream", out var streamValue) && streamValue.ValueKind == JsonValueKind.True;

        context.Response.Headers["request-id"] = "req_fake" + Guid.NewGuid().ToString("N")[..16];
        if (!stream)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(
                Message(id, model, new JsonArray(TextBlock(string.Concat(tokens))), stopReason, inputTokens, tokens.Count).ToJsonString(), context.RequestAborted);
            return;
        }

        context.Response.ContentType = "text/event-stream; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
        await EventAsync(context, new JsonObject { ["type"] = "message_start", ["message"] = Message(id, model, [], null, inputTokens, 1) });
        await EventAsync(context, new JsonObject { ["type"] = "content_block_start", ["index"] = 0, ["content_block"] = TextBlock("") });
        await EventAsync(context, new JsonObject { ["type"] = "ping" });
        foreach (var token in tokens)
        {
            if (slow)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), context.RequestAborted);
            }

            await EventAsync(context, new JsonObject
            {
                ["type"] = "content_block_delta",
                ["index"] = 0,
                ["delta"] = new JsonObject { ["type"] = "text_delta", ["text"] = token },
            });
        }

        if (cut)
        {
            // Give the deltas time to reach the client before the reset, which discards what it has not read.
            await Task.Delay(TimeSpan.FromMilliseconds(300), context.RequestAborted);
            context.Abort();
            return;
        }

        await EventAsync(context, new JsonObject { ["type"] = "content_block_stop", ["index"] = 0 });
        await EventAsync(context, new JsonObject
        {
            ["type"] = "message_delta",
            ["delta"] = new JsonObject { ["stop_reason"] = stopReason, ["stop_sequence"] = null },
            ["usage"] = new JsonObject { ["output_tokens"] = tokens.Count },
        });
        await EventAsync(context, new JsonObject { ["type"] = "message_stop" });
    }

    private static string Text(JsonElement content) => content.ValueKind == JsonValueKind.String
        ? content.GetString()!
        : string.Concat(content.EnumerateArray().Select(block => block.TryGetProperty("text", out var text) ? text.GetString() : ""));

    private static JsonObject TextBlock(string text) => new() { ["type"] = "text", ["text"] = text };

    private static JsonObject Message(string id, string model, JsonArray content, string? stopReason, int inputTokens, int outputTokens) => new()
    {
        ["id"] = id,
        ["type"] = "message",
        ["role"] = "assistant",
        ["model"] = model,
        ["content"] = content,
        ["stop_reason"] = stopReason,
        ["stop_sequence"] = null,
        ["usage"] = new JsonObject { ["input_tokens"] = inputTokens, ["output_tokens"] = outputTokens },
    };

    private static async Task EventAsync(HttpContext context, JsonObject data)
    {
        await context.Response.WriteAsync($"event: {data["type"]}\ndata: {data.ToJsonString()}\n\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    private static async Task ErrorAsync(HttpContext context, int status, string type, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(
            new JsonObject { ["type"] = "error", ["error"] = new JsonObject { ["type"] = type, ["message"] = message } }.ToJsonString(), context.RequestAborted);
    }
}
