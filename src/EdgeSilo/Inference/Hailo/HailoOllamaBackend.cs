using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Outpost.Grains.EdgeDevices;
using Outpost.Grains.Inference;

namespace Outpost.EdgeSilo.Inference.Hailo;

/// <summary>
/// Text generation on the AI HAT+ 2 through hailo-ollama, the HAT's LLM server, which speaks the Ollama HTTP API and
/// serves one request at a time.
/// </summary>
public sealed partial class HailoOllamaBackend : IGenerationBackend, IDisposable
{
    /// <summary>The backend's name, as devices advertise it.</summary>
    public const string BackendName = "hailo-ollama";

    private const string ChatPath = "api/chat";
    private const string TagsPath = "api/tags";
    private const int MaxErrorTextLength = 500;

    // The server takes one connection at a time, model listing included: every exchange holds this gate, so that a
    // periodic refresh waits for a running completion instead of being turned away (or turning the completion away).
    private readonly SemaphoreSlim _server = new(1, 1);
    private readonly HttpClient _httpClient;
    private readonly HailoOllamaOptions _options;
    private readonly ILogger<HailoOllamaBackend> _logger;
    private volatile IReadOnlyList<DeviceModel> _models = [];

    /// <summary>
    /// Creates the backend over <paramref name="httpClient"/>, whose base address and timeout it sets from
    /// <paramref name="options"/>; <see cref="HailoOllamaOptions.BaseUrl"/> must be set.
    /// </summary>
    public HailoOllamaBackend(HttpClient httpClient, IOptions<HailoOllamaOptions> options, ILogger<HailoOllamaBackend> logger)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);

        _options = options.Value;
        var baseUrl = _options.BaseUrl ?? throw new InvalidOperationException(
            $"{HailoOllamaOptions.Section}:{nameof(HailoOllamaOptions.BaseUrl)} is not set: the hailo-ollama backend is disabled.");

        // Relative paths resolve below the base address only when it ends in '/' (e.g. behind a reverse proxy's prefix).
        httpClient.BaseAddress = baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl : new Uri(baseUrl.AbsoluteUri + "/");

        // RequestTimeout bounds the whole exchange, streamed body included. HttpClient's own timeout stops at the
        // response headers, which Ollama sends with the first token, after any model load: it would only add a second,
        // shorter limit.
        httpClient.Timeout = Timeout.InfiniteTimeSpan;
        _httpClient = httpClient;
        _logger = logger;
    }

    /// <inheritdoc />
    public string Name => BackendName;

    /// <inheritdoc />
    public int MaxConcurrency => 1;

    /// <inheritdoc />
    public IReadOnlyList<DeviceModel> Models => _models;

    /// <inheritdoc />
    public async Task RefreshModelsAsync(CancellationToken cancellationToken)
    {
        await _server.WaitAsync(cancellationToken);
        try
        {
            using var timeout = StartTimeout(cancellationToken);
            OllamaTagsResponse? tags;
            try
            {
                using var response = await _httpClient.GetAsync(TagsPath, timeout.Token);
                await EnsureSuccessAsync(response, model: null, timeout.Token);
                tags = await response.Content.ReadFromJsonAsync(OllamaWireContext.Default.OllamaTagsResponse, timeout.Token);
            }
            catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested)
            {
                throw TimedOut(TagsPath, exception);
            }
            catch (JsonException exception)
            {
                throw new HttpRequestException($"hailo-ollama answered {TagsPath} with a body that is not its model list.", exception);
            }

            var names = (tags?.Models ?? [])
                .Select(model => model.Name ?? model.Model)
                .OfType<string>()
                .Where(name => name.Length > 0)
                .Distinct(StringComparer.Ordinal)
                .ToArray();
            var models = Array.ConvertAll(names, name => new DeviceModel(name, DeviceTasks.Generate, BackendName));

            if (!models.SequenceEqual(_models))
            {
                LogModelsChanged(_logger, names.Length, names);
            }

            _models = models;
        }
        finally
        {
            _server.Release();
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<GenerationChunk> GenerateAsync(
        GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var body = CreateChatRequest(request);

        await _server.WaitAsync(cancellationToken);
        try
        {
            var started = Stopwatch.GetTimestamp();
            LogGenerationStarted(_logger, request.Model, request.Messages.Count, request.MaxTokens);

            using var timeout = StartTimeout(cancellationToken);
            using var response = await SendChatAsync(body, timeout.Token, cancellationToken);
            var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
            var finished = false;
            try
            {
                using var reader = new StreamReader(stream, Encoding.UTF8, leaveOpen: true);
                while (await ReadPartAsync(reader, timeout.Token, cancellationToken) is { } part)
                {
                    if (part.Message?.Content is { Length: > 0 } text)
                    {
                        yield return new GenerationChunk(text, Done: false);
                    }

                    if (part.Done)
                    {
                        finished = true;
                        var final = Finish(part, request);
                        var elapsed = Stopwatch.GetElapsedTime(started);
                        LogGenerationCompleted(
                            _logger, request.Model, final.PromptTokens, final.CompletionTokens, final.StopReason, elapsed.TotalMilliseconds);
                        yield return final;
                        yield break;
                    }
                }

                throw new HttpRequestException("hailo-ollama closed the stream before the completion was done.");
            }
            finally
            {
                if (!finished)
                {
                    LogGenerationAbandoned(_logger, request.Model);
                    await CloseConnectionAsync(stream);
                }

                await stream.DisposeAsync();
            }
        }
        finally
        {
            _server.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _server.Dispose();

    private OllamaChatRequest CreateChatRequest(GenerationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Messages.Count == 0)
        {
            // Ollama treats a chat without messages as "load the model" and answers without generating anything.
            throw new InferenceRejectedException(InferenceRejection.InvalidInput, "A completion needs at least one message.");
        }

        if (request.MaxTokens < 1)
        {
            throw new InferenceRejectedException(InferenceRejection.InvalidInput, "max_tokens must be at least 1.");
        }

        var messages = request.Messages.Select(message => new OllamaMessage(message.Role, message.Content)).ToArray();
        var stop = request.StopSequences is { Count: > 0 } sequences ? sequences : null;
        return new OllamaChatRequest(
            request.Model,
            messages,
            Stream: true,
            new OllamaModelOptions(request.MaxTokens, request.Temperature, stop),
            _options.KeepAlive);
    }

    private async Task<HttpResponseMessage> SendChatAsync(
        OllamaChatRequest body, CancellationToken timeoutToken, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, ChatPath)
        {
            Content = JsonContent.Create(body, OllamaWireContext.Default.OllamaChatRequest),
        };

        HttpResponseMessage? response = null;
        try
        {
            // Headers only: the body is the token stream, read line by line as the server writes it.
            response = await _httpClient.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeoutToken);
            await EnsureSuccessAsync(response, body.Model, timeoutToken);
            return response;
        }
        catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested)
        {
            response?.Dispose();
            throw TimedOut(ChatPath, exception);
        }
        catch
        {
            response?.Dispose();
            throw;
        }
    }

    /// <summary>Reads the next NDJSON line of a chat stream; null when the stream ends.</summary>
    private async Task<OllamaChatResponse?> ReadPartAsync(
        StreamReader reader, CancellationToken timeoutToken, CancellationToken cancellationToken)
    {
        while (true)
        {
            string? line;
            try
            {
                line = await reader.ReadLineAsync(timeoutToken);
            }
            catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested)
            {
                throw TimedOut(ChatPath, exception);
            }

            if (line is null)
            {
                return null;
            }

            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            OllamaChatResponse? part;
            try
            {
                part = JsonSerializer.Deserialize(line, OllamaWireContext.Default.OllamaChatResponse);
            }
            catch (JsonException exception)
            {
                throw new HttpRequestException("hailo-ollama sent a stream line that is not JSON.", exception);
            }

            // A failure after the headers went out (the model crashed, ran out of memory) arrives as an error line.
            if (part?.Error is { } error)
            {
                LogStreamError(_logger, error);
                throw new HttpRequestException($"hailo-ollama failed mid-stream: {error}");
            }

            if (part is not null)
            {
                return part;
            }
        }
    }

    /// <summary>
    /// Closes the connection under an unfinished response, so that the server stops generating and is free for the
    /// next request. Disposing the response is not enough: SocketsHttpHandler first drains what is left, for up to its
    /// ResponseDrainTimeout (2 s by default), to reuse the connection, and the server stays busy all that time.
    /// Cancelling a read that waits on the socket makes it close the connection at once instead.
    /// </summary>
    private static async Task CloseConnectionAsync(Stream stream)
    {
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                using var abort = new CancellationTokenSource();
                var read = stream.ReadAsync(buffer, abort.Token);
                if (!read.IsCompleted)
                {
                    await abort.CancelAsync();
                }

                // Data that was already received, or that arrived just before the cancellation took effect, completes
                // the read normally and leaves the connection open: skip it and try again until a read is cancelled
                // while waiting on the socket (which closes the connection) or the stream ends.
                if (await read == 0)
                {
                    return;
                }
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or HttpRequestException or ObjectDisposedException)
        {
            // Cancelled as intended, or the connection was already gone (a cancelled read or a server failure).
        }
    }

    private static GenerationChunk Finish(OllamaChatResponse part, GenerationRequest request)
    {
        var completionTokens = part.EvalCount ?? 0;

        // Ollama says "stop" both at the end of the turn and when a stop sequence matched (it strips the sequence and
        // does not say which), so "stop_sequence" cannot be told apart here. Servers older than done_reason are judged
        // by the token count.
        var stopReason = part.DoneReason switch
        {
            "length" => "max_tokens",
            null when completionTokens >= request.MaxTokens => "max_tokens",
            _ => "end_turn",
        };

        return new GenerationChunk("", Done: true, part.PromptEvalCount ?? 0, completionTokens, stopReason);
    }

    private async Task EnsureSuccessAsync(HttpResponseMessage response, string? model, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var error = await ReadErrorAsync(response, cancellationToken);
        LogServerError(_logger, (int)response.StatusCode, error);

        if (model is not null && response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new InferenceRejectedException(
                InferenceRejection.UnknownModel, $"hailo-ollama does not serve model '{model}': {error}");
        }

        throw new HttpRequestException(
            $"hailo-ollama answered {(int)response.StatusCode} ({response.StatusCode}): {error}", null, response.StatusCode);
    }

    private static async Task<string> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = (await response.Content.ReadAsStringAsync(cancellationToken)).Trim();
        try
        {
            if (JsonSerializer.Deserialize(text, OllamaWireContext.Default.OllamaError)?.Error is { Length: > 0 } error)
            {
                return error;
            }
        }
        catch (JsonException)
        {
            // Not Ollama's {"error": "..."} (a proxy's page, say): the text itself is the best description there is.
        }

        return text.Length switch
        {
            0 => response.ReasonPhrase ?? "no error text",
            > MaxErrorTextLength => text[..MaxErrorTextLength],
            _ => text,
        };
    }

    private CancellationTokenSource StartTimeout(CancellationToken cancellationToken)
    {
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.RequestTimeout);
        return timeout;
    }

    private TimeoutException TimedOut(string path, OperationCanceledException exception) =>
        new($"hailo-ollama did not finish {path} within {_options.RequestTimeout}.", exception);
}
