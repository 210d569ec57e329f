using System.Text.Json;
using System.Text.Json.Nodes;
using Outpost.Gateway.Errors;
using Outpost.Gateway.Routing;
using Outpost.Gateway.Security;
using Outpost.Gateway.Spending;
using Outpost.Grains.EdgeDevices;
using Outpost.Grains.Inference;

namespace Outpost.Gateway.Messages;

/// <summary>
/// Serves one Anthropic Messages request: on an edge device when one available to the tenant serves the model,
/// otherwise on the cloud upstream (opt-in and budget permitting). Every request reserves its worst case first and is
/// charged what the model reported, so the usage the caller sees is what the ledger holds.
/// </summary>
public sealed partial class MessagesRelay(
    EdgeRouter router, DeviceCatalog catalog, SpendGuard spend, AnthropicUpstream upstream, ILogger<MessagesRelay> logger)
{
    private const string Kind = "messages";

    public async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var cancellationToken = context.RequestAborted;
        try
        {
            var request = await ReadAsync(context, cancellationToken);
            AuditLogs.AuditFeature.Of(context)?.Model = request.Model;
            var tenant = CallerContext.From(context.User).Tenant;
            switch (await ChooseAsync(tenant, request.Model, cancellationToken))
            {
                case Route.Edge when request.Stream:
                    await EdgeStreamAsync(context, tenant, request, cancellationToken);
                    break;
                case Route.Edge:
                    await EdgeAsync(context, tenant, request, cancellationToken);
                    break;
                case Route.Cloud when request.Stream:
                    await CloudStreamAsync(context, request, cancellationToken);
                    break;
                case Route.Cloud:
                    await CloudAsync(context, request, cancellationToken);
                    break;
                default:
                    throw new MessagesApiException(
                        StatusCodes.Status404NotFound, MessagesErrors.NotFound,
                        $"model: '{request.Model}' is neither served by an edge device available to you nor a priced cloud model.");
            }
        }
        catch (Exception ex) when (!context.Response.HasStarted && !cancellationToken.IsCancellationRequested && Translate(ex) is { } error)
        {
            await MessagesErrors.WriteAsync(context, error, (ex as ProblemException)?.RetryAfter ?? RetryAfter(error));
        }
        catch (Exception ex) when (context.Response.HasStarted && !cancellationToken.IsCancellationRequested && Translate(ex) is { } error)
        {
            // The status line is gone: Anthropic reports a failure mid-stream as an error event.
            AuditLogs.AuditFeature.Of(context)?.Outcome = "upstream_error";
            await ServerSentEvents.WriteAsync(context, "error", MessagesErrors.Body(error.ErrorType, error.Message).ToJsonString(), cancellationToken);
        }
    }

    private enum Route
    {
        None,
        Edge,
        Cloud,
    }

    private async Task<Route> ChooseAsync(string tenant, string model, CancellationToken cancellationToken)
    {
        var serving = (await catalog.GetDevicesAsync(cancellationToken))
            .Where(d => catalog.IsAvailableTo(d.Record.Registration.DeviceId, tenant)
                && d.Record.Registration.Models.Any(m => m.Task == DeviceTasks.Generate && string.Equals(m.Name, model, StringComparison.Ordinal)))
            .ToList();
        if (serving.Any(d => d.Online))
        {
            return Route.Edge;
        }

        if (spend.Prices.CloudModels.ContainsKey(model))
        {
            return Route.Cloud;
        }

        // A local model whose devices are all offline: the router answers 503 with Retry-After, not 404.
        return serving.Count > 0 ? Route.Edge : Route.None;
    }

    private static async Task<MessagesRequest> ReadAsync(HttpContext context, CancellationToken cancellationToken)
    {
        try
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: cancellationToken);
            return MessagesRequest.Parse(body.RootElement);
        }
        catch (JsonException)
        {
            throw MessagesApiException.Invalid("The request body is not valid JSON.");
        }
    }

    private async Task EdgeAsync(HttpContext context, string tenant, MessagesRequest request, CancellationToken cancellationToken)
    {
        await using var ticket = await ReserveEdgeAsync(context, request, cancellationToken);
        var result = await router.GenerateAsync(tenant, Generation(request), cancellationToken);
        var charge = await ticket.CommitAsync(EdgeCost(result.PromptTokens, result.CompletionTokens), result.PromptTokens, result.CompletionTokens);
        SpendGuard.WriteCharge(context, charge, $"edge:{result.DeviceId}");

        var message = Message(NewId(), request.Model, new JsonArray(Text(result.Text)), result.StopReason, result.PromptTokens, result.CompletionTokens);
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(message.ToJsonString(), cancellationToken);
    }

    private async Task EdgeStreamAsync(HttpContext context, string tenant, MessagesRequest request, CancellationToken cancellationToken)
    {
        await using var ticket = await ReserveEdgeAsync(context, request, cancellationToken);
        string? deviceId = null;
        var chunks = router.GenerateStreamAsync(tenant, Generation(request), device => deviceId = device, cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using var _ = chunks;

        // The first chunk is routed (and failed over) before anything is written, so a refusal is still a plain error.
        var more = await chunks.MoveNextAsync();
        context.Response.Headers[SpendGuard.TargetHeader] = $"edge:{deviceId}";
        ServerSentEvents.Start(context);

        // An edge model reports its prompt tokens only at the end: message_start says 0 and message_delta carries both.
        var id = NewId();
        await WriteEventAsync(context, "message_start", new JsonObject
        {
            ["type"] = "message_start",
            ["message"] = Message(id, request.Model, [], null, 0, 0),
        }, cancellationToken);
        await WriteEventAsync(context, "content_block_start", new JsonObject
        {
            ["type"] = "content_block_start",
            ["index"] = 0,
            ["content_block"] = Text(""),
        }, cancellationToken);
        await WriteEventAsync(context, "ping", new JsonObject { ["type"] = "ping" }, cancellationToken);

        GenerationChunk? last = null;
        var produced = 0;
        try
        {
        while (more)
        {
            var chunk = chunks.Current;
            produced += chunk.Text.Length > 0 ? 1 : 0;
            if (chunk.Text.Length > 0)
            {
                await WriteEventAsync(context, "content_block_delta", new JsonObject
                {
                    ["type"] = "content_block_delta",
                    ["index"] = 0,
                    ["delta"] = new JsonObject { ["type"] = "text_delta", ["text"] = chunk.Text },
                }, cancellationToken);
            }

            if (chunk.Done)
            {
                last = chunk;
                break;
            }

            more = await chunks.MoveNextAsync();
        }
        }
        finally
        {
            if (last is null)
            {
                // Cut short: the device worked for what it streamed (one token per chunk, its own count never came).
                await ticket.CommitAsync(EdgeCost(request.PromptBytes, produced), request.PromptBytes, produced);
            }
        }

        if (last is null)
        {
            throw new MessagesApiException(StatusCodes.Status502BadGateway, MessagesErrors.ApiError, "The edge device's stream ended early.");
        }

        await ticket.CommitAsync(EdgeCost(last.PromptTokens, last.CompletionTokens), last.PromptTokens, last.CompletionTokens);
        await WriteEventAsync(context, "content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = 0 }, cancellationToken);
        await WriteEventAsync(context, "message_delta", new JsonObject
        {
            ["type"] = "message_delta",
            ["delta"] = new JsonObject { ["stop_reason"] = last.StopReason ?? "end_turn", ["stop_sequence"] = null },
            ["usage"] = new JsonObject { ["input_tokens"] = last.PromptTokens, ["output_tokens"] = last.CompletionTokens },
        }, cancellationToken);
        await WriteEventAsync(context, "message_stop", new JsonObject { ["type"] = "message_stop" }, cancellationToken);
    }

    private async Task CloudAsync(HttpContext context, MessagesRequest request, CancellationToken cancellationToken)
    {
        var price = CloudPrice(request.Model);
        await using var ticket = await ReserveCloudAsync(context, request, price, cancellationToken);
        var message = await upstream.CreateAsync(request, cancellationToken);
        var usage = UpstreamUsage.From(message.TryGetValue("usage", out var reported) ? reported : default);
        var charge = await ticket.CommitAsync(usage.CostMicros(price.InputPerMillionMicros, price.OutputPerMillionMicros), usage.InputTokens, usage.OutputTokens);
        SpendGuard.WriteCharge(context, charge, $"cloud:{request.Model}");

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(message), cancellationToken);
    }

    private async Task CloudStreamAsync(HttpContext context, MessagesRequest request, CancellationToken cancellationToken)
    {
        var price = CloudPrice(request.Model);
        await using var ticket = await ReserveCloudAsync(context, request, price, cancellationToken);
        var events = upstream.StreamAsync(request, cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using var _ = events;

        // Retries happen inside this first step; once it returns, the caller starts seeing the answer.
        if (!await events.MoveNextAsync())
        {
            throw new MessagesApiException(StatusCodes.Status502BadGateway, MessagesErrors.ApiError, "The cloud upstream sent an empty stream.");
        }

        context.Response.Headers[SpendGuard.TargetHeader] = $"cloud:{request.Model}";
        ServerSentEvents.Start(context);
        UpstreamUsage? usage = null;
        var final = false;
        var stopped = false;
        var produced = new ProducedOutput();
        try
        {
            do
            {
                var current = events.Current;
                var type = current.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "unknown";
                if (type == "message_start" && current.TryGetProperty("message", out var started))
                {
                    usage = UpstreamUsage.From(started.TryGetProperty("usage", out var u) ? u : default);
                }
                else if (type == "content_block_delta")
                {
                    produced.Add(current);
                }
                else if (type == "message_delta" && current.TryGetProperty("usage", out var delta))
                {
                    usage = UpstreamUsage.From(delta, usage ?? default);
                    final = true;
                }
                else if (type == "message_stop")
                {
                    stopped = true;
                }

                if (type == "message_stop" && usage is { } reported)
                {
                    // Charged before the caller learns the stream is over, so the ledger is never behind what it saw.
                    await ticket.CommitAsync(reported.CostMicros(price.InputPerMillionMicros, price.OutputPerMillionMicros), reported.InputTokens, reported.OutputTokens);
                }

                await ServerSentEvents.WriteAsync(context, type, JsonSerializer.Serialize(current), cancellationToken);
                if (type == "message_start")
                {
                    await WriteEventAsync(context, "ping", new JsonObject { ["type"] = "ping" }, cancellationToken);
                }
            }
            while (await events.MoveNextAsync());

            if (!stopped)
            {
                throw new MessagesApiException(StatusCodes.Status502BadGateway, MessagesErrors.ApiError, "The cloud upstream's stream ended before message_stop.");
            }
        }
        finally
        {
            // A stream cut short (timeout, the caller gone, the upstream failing) was still billed upstream for what it
            // produced. The upstream's final usage counts when it came; otherwise message_start's count is only where
            // output began, so the output is the larger of it and what the deltas carried.
            var input = usage?.InputTokens ?? request.PromptBytes;
            var output = final ? usage!.Value.OutputTokens : Math.Max(usage?.OutputTokens ?? 0, produced.Tokens);
            var cut = new UpstreamUsage(input, output);
            await ticket.CommitAsync(cut.CostMicros(price.InputPerMillionMicros, price.OutputPerMillionMicros), cut.InputTokens, cut.OutputTokens);
        }
    }

    private Task<SpendTicket> ReserveEdgeAsync(HttpContext context, MessagesRequest request, CancellationToken cancellationToken)
    {
        // Worst case: every byte of the prompt a token, plus max_tokens written.
        var worst = request.PromptBytes + request.MaxTokens;
        return spend.ReserveAsync(context, new SpendEstimate(Kind, "edge", EdgeCost(request.PromptBytes, request.MaxTokens), worst), cancellationToken);
    }

    private Task<SpendTicket> ReserveCloudAsync(HttpContext context, MessagesRequest request, CloudModelPrice price, CancellationToken cancellationToken)
    {
        var worst = new UpstreamUsage(request.PromptBytes, request.MaxTokens);
        return spend.ReserveAsync(
            context,
            new SpendEstimate(Kind, $"cloud:{request.Model}", worst.CostMicros(price.InputPerMillionMicros, price.OutputPerMillionMicros), worst.InputTokens + worst.OutputTokens),
            cancellationToken);
    }

    private long EdgeCost(int inputTokens, int outputTokens) =>
        spend.Prices.EdgeRequestMicros + (spend.Prices.EdgeGenerationTokenMicros * (inputTokens + (long)outputTokens));

    private CloudModelPrice CloudPrice(string model) =>
        spend.Prices.CloudModels.TryGetValue(model, out var price)
            ? price
            : throw new MessagesApiException(StatusCodes.Status404NotFound, MessagesErrors.NotFound, $"model: '{model}' has no price configured on this gateway.");

    private static GenerationRequest Generation(MessagesRequest request) =>
        new(request.Model, request.EdgeMessages, request.MaxTokens, request.Temperature, request.StopSequences);

    private static string NewId() => "msg_" + Guid.NewGuid().ToString("N");

    private static JsonObject Text(string text) => new() { ["type"] = "text", ["text"] = text };

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

    private static Task WriteEventAsync(HttpContext context, string name, JsonObject data, CancellationToken cancellationToken) =>
        ServerSentEvents.WriteAsync(context, name, data.ToJsonString(), cancellationToken);

    private static TimeSpan? RetryAfter(MessagesApiException error) =>
        error.Status is StatusCodes.Status429TooManyRequests or StatusCodes.Status503ServiceUnavailable or 529 ? TimeSpan.FromSeconds(5) : null;

    /// <summary>Any failure in Anthropic's terms; a bug is a 500 with no detail (the detail goes to the log).</summary>
    private MessagesApiException Translate(Exception exception)
    {
        switch (exception)
        {
            case MessagesApiException error:
                return error;
            case ProblemException problem:
                return MessagesErrors.FromProblem(problem);
            case InsufficientScopeException scope:
                return new MessagesApiException(StatusCodes.Status403Forbidden, MessagesErrors.Permission, scope.Message);
            case DeviceUnavailableException or SiloUnavailableException or OrleansMessageRejectionException or TimeoutException:
                return new MessagesApiException(StatusCodes.Status503ServiceUnavailable, MessagesErrors.Overloaded, "The Outpost cluster did not answer in time; retry shortly.");
            default:
                LogRequestFailed(logger, exception);
                return new MessagesApiException(StatusCodes.Status500InternalServerError, MessagesErrors.ApiError, "The request failed inside Outpost; the error was logged.");
        }
    }
}
