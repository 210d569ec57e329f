using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Anthropic;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using Microsoft.Extensions.Options;

namespace Outpost.Gateway.Messages;

/// <summary>
/// Anthropic's Messages API through the official SDK. The SDK retries timeouts, 429 and 5xx/529 with exponential
/// backoff (<see cref="AnthropicUpstreamOptions.MaxRetries"/>); those retries all happen before the first event is
/// returned from here, so they never repeat anything our caller has already seen.
/// </summary>
public sealed partial class AnthropicUpstream(IOptions<AnthropicUpstreamOptions> options, ILogger<AnthropicUpstream> logger) : IDisposable
{
    private static readonly Dictionary<string, JsonElement> NoRawData = [];
    private readonly Lazy<AnthropicClient> _client = new(() => CreateClient(options.Value));

    public bool IsConfigured => !string.IsNullOrEmpty(options.Value.ApiKey);

    /// <summary>Sends the request and returns the upstream's message JSON as it came.</summary>
    public async Task<IReadOnlyDictionary<string, JsonElement>> CreateAsync(MessagesRequest request, CancellationToken cancellationToken)
    {
        try
        {
            var message = await Client.Messages.Create(Params(request), cancellationToken);
            return message.RawData;
        }
        catch (Exception ex) when (Translate(ex, cancellationToken) is { } error)
        {
            throw error;
        }
    }

    /// <summary>The upstream's stream events, each as its JSON (the <c>type</c> property names the event).</summary>
    public async IAsyncEnumerable<JsonElement> StreamAsync(MessagesRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var events = Client.Messages.CreateStreaming(Params(request), cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using var _ = events;
        while (true)
        {
            JsonElement current;
            try
            {
                if (!await events.MoveNextAsync())
                {
                    yield break;
                }

                current = events.Current.Json;
            }
            catch (Exception ex) when (Translate(ex, cancellationToken) is { } error)
            {
                throw error;
            }

            yield return current;
        }
    }

    public void Dispose()
    {
        if (_client.IsValueCreated)
        {
            (_client.Value as IDisposable)?.Dispose();
        }
    }

    private AnthropicClient Client => IsConfigured
        ? _client.Value
        : throw new MessagesApiException(
            StatusCodes.Status503ServiceUnavailable, MessagesErrors.Overloaded,
            $"No cloud upstream is configured on this gateway ({AnthropicUpstreamOptions.Section}:ApiKey is not set); use a model served by an edge device.");

    private static AnthropicClient CreateClient(AnthropicUpstreamOptions options) => new()
    {
        ApiKey = options.ApiKey,
        BaseUrl = options.BaseUrl.TrimEnd('/'),
        Timeout = options.Timeout,
        MaxRetries = options.MaxRetries,
    };

    /// <summary>The caller's request, minus what the gateway does not forward (metadata, stream, unknown fields).</summary>
    private static MessageCreateParams Params(MessagesRequest request)
    {
        var body = new Dictionary<string, JsonElement>(StringComparer.Ordinal)
        {
            ["model"] = JsonSerializer.SerializeToElement(request.Model),
            ["max_tokens"] = JsonSerializer.SerializeToElement(request.MaxTokens),
            ["messages"] = request.RawMessages,
        };
        if (request.RawSystem is { } system)
        {
            body["system"] = system;
        }

        if (request.Temperature is { } temperature)
        {
            body["temperature"] = JsonSerializer.SerializeToElement(temperature);
        }

        if (request.StopSequences is { } stops)
        {
            body["stop_sequences"] = JsonSerializer.SerializeToElement(stops);
        }

        return MessageCreateParams.FromRawUnchecked(NoRawData, NoRawData, body);
    }

    /// <summary>An upstream failure in Anthropic's terms, its message cleaned of the key; null for the caller's own cancellation.</summary>
    private MessagesApiException? Translate(Exception exception, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested || exception is MessagesApiException)
        {
            return null;
        }

        MessagesApiException error;
        switch (exception)
        {
            case AnthropicApiException { StatusCode: HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden } api:
                // The caller's credentials are fine: it is the gateway's key the upstream refused.
                LogUpstreamRefusedKey(logger, (int)api.StatusCode);
                error = new MessagesApiException(
                    StatusCodes.Status502BadGateway, MessagesErrors.ApiError, "The cloud upstream refused this gateway's credentials.", exception);
                break;
            case AnthropicApiException api:
                var (type, message) = ErrorOf(api.ResponseBody);
                var status = (int)api.StatusCode;
                error = new MessagesApiException(status, type ?? MessagesErrors.TypeFor(status), Redact(message ?? $"The cloud upstream answered {status}."), exception);
                break;
            case AnthropicSseException sse:
                var (sseType, sseMessage) = ErrorOf(sse.Body.ValueKind == JsonValueKind.Undefined ? null : sse.Body.GetRawText());
                error = new MessagesApiException(
                    StatusCodes.Status500InternalServerError, sseType ?? MessagesErrors.ApiError, Redact(sseMessage ?? sse.ApiMessage ?? "The cloud upstream's stream failed."), exception);
                break;
            case AnthropicIOException or HttpRequestException or TimeoutException or OperationCanceledException or IOException:
                var timedOut = exception is TimeoutException or OperationCanceledException || exception.InnerException is TimeoutException or OperationCanceledException;
                error = timedOut
                    ? new MessagesApiException(StatusCodes.Status504GatewayTimeout, MessagesErrors.Timeout, "The cloud upstream did not answer in time.", exception)
                    : new MessagesApiException(StatusCodes.Status502BadGateway, MessagesErrors.ApiError, "The cloud upstream could not be reached.", exception);
                break;
            case AnthropicException:
                error = new MessagesApiException(StatusCodes.Status502BadGateway, MessagesErrors.ApiError, "The cloud upstream's answer could not be read.", exception);
                break;
            default:
                return null;
        }

        LogUpstreamFailed(logger, error.Status, error.ErrorType);
        return error;
    }

    private static (string? Type, string? Message) ErrorOf(string? body)
    {
        if (string.IsNullOrEmpty(body))
        {
            return (null, null);
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            var error = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object ? e : root;
            if (error.ValueKind != JsonValueKind.Object)
            {
                return (null, null);
            }

            return (
                error.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String ? type.GetString() : null,
                error.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String ? message.GetString() : null);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    /// <summary>An upstream may echo what it was sent: the key must never travel on to our caller.</summary>
    private string Redact(string message) =>
        options.Value.ApiKey is { Length: > 0 } key ? message.Replace(key, "[redacted]", StringComparison.Ordinal) : message;
}
