using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Outpost.Testing.Hailo;

/// <summary>
/// A stand-in for hailo-ollama, the AI HAT+ 2's LLM server, on loopback. It speaks the Ollama HTTP API
/// (<c>GET /api/tags</c>, <c>POST /api/chat</c>, <c>POST /api/generate</c>, streamed as NDJSON or not), answers
/// deterministically ("echo:" and the last user message, one word per token) and, like the real server, runs one
/// request at a time: a request that arrives while another runs gets 503 <c>{"error":"server busy"}</c>.
/// </summary>
public sealed class FakeHailoOllamaServer : IAsyncDisposable
{
    /// <summary>The model the server lists unless <see cref="Models"/> is set.</summary>
    public const string DefaultModel = "qwen2.5:1.5b";

    /// <summary>What every reply starts with, before the echoed words.</summary>
    public const string ReplyPrefix = "echo:";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private static readonly DateTimeOffset ModifiedAt = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly WebApplication _app;
    private readonly Lock _gate = new();
    private TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _inFlight;
    private int _maxConcurrentRequests;
    private int _totalRequests;
    private int _rejectedBusy;
    private int _abortedRequests;
    private volatile IReadOnlyList<string> _models = [DefaultModel];
    private long _tokenDelayTicks = TimeSpan.FromMilliseconds(1).Ticks;
    private volatile string? _lastRequestBody;

    private FakeHailoOllamaServer()
    {
        _idle.SetResult();

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Services.AddRoutingCore();

        _app = builder.Build();
        _app.Use(OneAtATimeAsync);
        _app.MapGet("/api/tags", ListModelsAsync);
        _app.MapPost("/api/chat", ChatAsync);
        _app.MapPost("/api/generate", GenerateAsync);
    }

    /// <summary>Where the server listens, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>The models <c>/api/tags</c> lists and the other endpoints accept; any other model gets 404.</summary>
    public IReadOnlyList<string> Models
    {
        get => _models;
        set => _models = [.. value];
    }

    /// <summary>How long the server "thinks" before each token; longer delays let tests overlap requests.</summary>
    public TimeSpan TokenDelay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _tokenDelayTicks));
        set => Interlocked.Exchange(ref _tokenDelayTicks, value.Ticks);
    }

    /// <summary>The JSON body of the last chat or generate request the server ran, as the client sent it.</summary>
    public string? LastRequestBody => _lastRequestBody;

    /// <summary>Requests received, busy ones included.</summary>
    public int TotalRequests => ReadCounter(ref _totalRequests);

    /// <summary>The most requests the server ran at once: 1, unless its one-at-a-time gate is broken.</summary>
    public int MaxConcurrentRequests => ReadCounter(ref _maxConcurrentRequests);

    /// <summary>Requests turned away with 503 because another one was running.</summary>
    public int RejectedBusy => ReadCounter(ref _rejectedBusy);

    /// <summary>Requests whose client went away before the server had finished them.</summary>
    public int AbortedRequests => ReadCounter(ref _abortedRequests);

    /// <summary>Starts a server on a free loopback port.</summary>
    public static async Task<FakeHailoOllamaServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var server = new FakeHailoOllamaServer();
        await server._app.StartAsync(cancellationToken);

        var address = server._app.Services.GetRequiredService<IServer>()
            .Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        server.BaseUrl = new Uri(address.EndsWith('/') ? address : address + "/");
        return server;
    }

    /// <summary>Completes when no request is running, e.g. once the server has noticed that a client went away.</summary>
    public Task WaitUntilIdleAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return _idle.Task.WaitAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Stopping signals ApplicationStopping first, which ends any answer still streaming.
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task OneAtATimeAsync(HttpContext context, RequestDelegate next)
    {
        if (!TryEnter())
        {
            await WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable, "server busy");
            return;
        }

        try
        {
            await next(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away mid-answer: stop generating, as the real server does.
        }
        finally
        {
            Exit(aborted: context.RequestAborted.IsCancellationRequested);
        }
    }

    private bool TryEnter()
    {
        lock (_gate)
        {
            _totalRequests++;
            if (_inFlight > 0)
            {
                _rejectedBusy++;
                return false;
            }

            _inFlight++;
            _maxConcurrentRequests = Math.Max(_maxConcurrentRequests, _inFlight);
            _idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return true;
        }
    }

    private void Exit(bool aborted)
    {
        lock (_gate)
        {
            _inFlight--;
            if (aborted)
            {
                _abortedRequests++;
            }

            if (_inFlight == 0)
            {
                _idle.TrySetResult();
            }
        }
    }

    private int ReadCounter(ref int counter)
    {
        lock (_gate)
        {
            return counter;
        }
    }

    private Task ListModelsAsync(HttpContext context)
    {
        var models = _models
            .Select(name => new TagsModel(name, name, ModifiedAt, Size: 986_061_892, Digest: Digest(name)))
            .ToArray();
        return WriteJsonAsync(context, StatusCodes.Status200OK, new TagsResponse(models));
    }

    private static string Digest(string name) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)));

    private async Task ChatAsync(HttpContext context)
    {
        if (await ReadRequestAsync<ChatRequest>(context) is not { } request || !await CheckModelAsync(context, request.Model))
        {
            return;
        }

        var messages = request.Messages ?? [];
        var lastUser = messages.LastOrDefault(message => message.Role == "user")?.Content ?? "";
        var reply = Reply.Compose(lastUser, messages.Select(message => message.Content), request.Options);

        await AnswerAsync(
            context,
            request.Stream ?? true,
            reply,
            token => new ChatResponse(request.Model!, DateTimeOffset.UtcNow, new ChatMessage("assistant", token), Done: false),
            (text, usage) => new ChatResponse(request.Model!, DateTimeOffset.UtcNow, new ChatMessage("assistant", text), Done: true)
            {
                DoneReason = reply.DoneReason,
                TotalDuration = usage.TotalDuration,
                LoadDuration = 0,
                PromptEvalCount = reply.PromptTokens,
                PromptEvalDuration = 0,
                EvalCount = reply.Tokens.Count,
                EvalDuration = usage.TotalDuration,
            });
    }

    private async Task GenerateAsync(HttpContext context)
    {
        if (await ReadRequestAsync<GenerateRequest>(context) is not { } request || !await CheckModelAsync(context, request.Model))
        {
            return;
        }

        var prompt = request.Prompt ?? "";
        var reply = Reply.Compose(prompt, [request.System ?? "", prompt], request.Options);

        await AnswerAsync(
            context,
            request.Stream ?? true,
            reply,
            token => new GenerateResponse(request.Model!, DateTimeOffset.UtcNow, token, Done: false),
            (text, usage) => new GenerateResponse(request.Model!, DateTimeOffset.UtcNow, text, Done: true)
            {
                DoneReason = reply.DoneReason,
                TotalDuration = usage.TotalDuration,
                LoadDuration = 0,
                PromptEvalCount = reply.PromptTokens,
                PromptEvalDuration = 0,
                EvalCount = reply.Tokens.Count,
                EvalDuration = usage.TotalDuration,
            });
    }

    /// <summary>
    /// Writes the reply as Ollama does: streamed, one NDJSON line per token and a last line with <c>done</c> and the
    /// usage (its own text empty); otherwise one JSON object with the whole text and the usage.
    /// </summary>
    private async Task AnswerAsync<T>(
        HttpContext context, bool stream, Reply reply, Func<string, T> tokenLine, Func<string, Usage, T> doneLine)
    {
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(
            context.RequestAborted, _app.Lifetime.ApplicationStopping);
        var started = Stopwatch.GetTimestamp();

        if (!stream)
        {
            foreach (var _ in reply.Tokens)
            {
                await Task.Delay(TokenDelay, stopping.Token);
            }

            await WriteJsonAsync(context, StatusCodes.Status200OK, doneLine(string.Concat(reply.Tokens), Usage.Since(started)));
            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/x-ndjson";
        foreach (var token in reply.Tokens)
        {
            await Task.Delay(TokenDelay, stopping.Token);
            await WriteLineAsync(context.Response, tokenLine(token), stopping.Token);
        }

        await WriteLineAsync(context.Response, doneLine("", Usage.Since(started)), stopping.Token);
    }

    private async Task<T?> ReadRequestAsync<T>(HttpContext context)
        where T : class
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        _lastRequestBody = Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)body.Length);

        try
        {
            if (body.Length > 0 && JsonSerializer.Deserialize<T>(body.GetBuffer().AsSpan(0, (int)body.Length), Json) is { } request)
            {
                return request;
            }
        }
        catch (JsonException exception)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, $"invalid request body: {exception.Message}");
            return null;
        }

        await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "missing request body");
        return null;
    }

    private async Task<bool> CheckModelAsync(HttpContext context, string? model)
    {
        if (string.IsNullOrEmpty(model))
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "model is required");
            return false;
        }

        if (!_models.Contains(model, StringComparer.Ordinal))
        {
            await WriteErrorAsync(context, StatusCodes.Status404NotFound, $"model '{model}' not found");
            return false;
        }

        return true;
    }

    private static Task WriteErrorAsync(HttpContext context, int statusCode, string error) =>
        WriteJsonAsync(context, statusCode, new ErrorResponse(error));

    private static async Task WriteJsonAsync<T>(HttpContext context, int statusCode, T body)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.Body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(body, Json), context.RequestAborted);
    }

    private static async Task WriteLineAsync<T>(HttpResponse response, T line, CancellationToken cancellationToken)
    {
        await response.Body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(line, Json), cancellationToken);
        await response.Body.WriteAsync("\n"u8.ToArray(), cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    /// <summary>A deterministic answer: the prefix and the echoed words, cut by stop sequences and <c>num_predict</c>.</summary>
    private sealed record Reply(IReadOnlyList<string> Tokens, string DoneReason, int PromptTokens)
    {
        public static Reply Compose(string echoed, IEnumerable<string> promptTexts, ModelOptions? options)
        {
            var text = $"{ReplyPrefix} {echoed}";

            // As in Ollama, a stop sequence ends the answer before the sequence, which is not sent, and the reason
            // is "stop", the same as at the natural end.
            foreach (var stop in options?.Stop ?? [])
            {
                if (stop.Length > 0 && text.IndexOf(stop, StringComparison.Ordinal) is var at and >= 0)
                {
                    text = text[..at];
                }
            }

            // One token per word, each but the first carrying the space before it, so that the tokens join to the text.
            var words = text.Split(' ');
            var tokens = words.Take(1).Concat(words.Skip(1).Select(word => " " + word)).Where(token => token.Length > 0).ToList();
            var doneReason = "stop";
            if (options?.NumPredict is > 0 and var limit && tokens.Count > limit)
            {
                tokens = tokens[..limit];
                doneReason = "length";
            }

            var promptTokens = promptTexts.Sum(prompt => prompt.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length);
            return new Reply(tokens, doneReason, promptTokens);
        }
    }

    private readonly record struct Usage(long TotalDuration)
    {
        // Ollama reports durations in nanoseconds.
        public static Usage Since(long started) => new((long)(Stopwatch.GetElapsedTime(started).TotalMilliseconds * 1_000_000));
    }

    private sealed record ChatRequest(string? Model, IReadOnlyList<ChatMessage>? Messages, bool? Stream, ModelOptions? Options);

    private sealed record GenerateRequest(string? Model, string? Prompt, string? System, bool? Stream, ModelOptions? Options);

    private sealed record ModelOptions(int? NumPredict, double? Temperature, IReadOnlyList<string>? Stop);

    private sealed record ChatMessage(string Role, string Content);

    private sealed record ChatResponse(string Model, DateTimeOffset CreatedAt, ChatMessage Message, bool Done) : DoneFields;

    private sealed record GenerateResponse(string Model, DateTimeOffset CreatedAt, string Response, bool Done) : DoneFields;

    /// <summary>The fields Ollama adds to the line with <c>done: true</c>.</summary>
    private abstract record DoneFields
    {
        public string? DoneReason { get; init; }

        public long? TotalDuration { get; init; }

        public long? LoadDuration { get; init; }

        public int? PromptEvalCount { get; init; }

        public long? PromptEvalDuration { get; init; }

        public int? EvalCount { get; init; }

        public long? EvalDuration { get; init; }
    }

    private sealed record TagsResponse(IReadOnlyList<TagsModel> Models);

    private sealed record TagsModel(string Name, string Model, DateTimeOffset ModifiedAt, long Size, string Digest);

    private sealed record ErrorResponse(string Error);
}
