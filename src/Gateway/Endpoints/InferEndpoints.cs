using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Outpost.Gateway.AuditLogs;
using Outpost.Gateway.Contracts;
using Outpost.Gateway.Embeddings;
using Outpost.Gateway.Errors;
using Outpost.Gateway.Routing;
using Outpost.Gateway.Security;
using Outpost.Gateway.Spending;
using Outpost.Grains.EdgeDevices;
using Outpost.Grains.Inference;
using Outpost.Identity;

namespace Outpost.Gateway.Endpoints;

/// <summary><c>POST /v1/infer</c>: the playbook's task-style entry point for embeddings and small-model generation.</summary>
public static class InferEndpoints
{
    private const int MaxGenerationTokens = 32_768;

    public static IEndpointRouteBuilder MapInferApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGroup("/v1/infer").WithTags("Inference")
            .MapPost("/", InferAsync)
            .RequireAuthorization()
            .WithName("Infer")
            .WithSummary("Runs an embed or generate task on an edge device.");
        return endpoints;
    }

    public static async Task<Ok<object>> InferAsync(
        InferRequest request, EmbeddingService embeddings, EdgeRouter router, SpendGuard spend, IOptions<EmbeddingsOptions> options, HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        if (request.Payload.ValueKind != JsonValueKind.Object)
        {
            throw ProblemException.BadRequest("payload must be an object.");
        }

        // The scope depends on the task: embedding needs embed:create, generation infer:create.
        return request.Task switch
        {
            DeviceTasks.Embed => TypedResults.Ok<object>(await EmbedAsync(request.Payload, embeddings, spend, options.Value, context)),
            DeviceTasks.Generate => TypedResults.Ok<object>(await GenerateAsync(request.Payload, router, spend, context)),
            null => throw ProblemException.BadRequest("task is required: 'embed' or 'generate'."),
            _ => throw ProblemException.BadRequest($"task '{request.Task}' is not one of: embed, generate."),
        };
    }

    private static async Task<InferEmbedResponse> EmbedAsync(
        JsonElement payload, EmbeddingService embeddings, SpendGuard spend, EmbeddingsOptions limits, HttpContext context)
    {
        AuditFeature.Of(context)?.Scopes.Add(Scopes.EmbedCreate);
        CallerContext.RequireScope(context.User, Scopes.EmbedCreate);
        var model = JsonFields.RequiredString(payload, "model", "payload.");
        AuditFeature.Of(context)?.Model = model;
        var base64 = EmbeddingsEndpoints.ParseEncoding(JsonFields.OptionalString(payload, "encoding_format", "payload."), "payload.encoding_format");
        var input = payload.TryGetProperty("input", out var value) ? value : default;
        var inputs = JsonFields.Inputs(input, "payload.input", limits.MaxInputs, limits.MaxInputCharacters);

        var outcome = await EmbeddingsEndpoints.EmbedMeteredAsync(
            embeddings, spend, context, CallerContext.From(context.User).Tenant, model, inputs, limits.TruncateLongInputs);
        return new InferEmbedResponse(
            model,
            outcome.DeviceId ?? "cache",
            outcome.Vectors.Select((vector, index) => new InferEmbedding(index, EmbeddingsEndpoints.Encode(vector, base64))).ToList(),
            new InferUsage(outcome.PromptTokens, 0));
    }

    private static async Task<InferGenerateResponse> GenerateAsync(JsonElement payload, EdgeRouter router, SpendGuard spend, HttpContext context)
    {
        AuditFeature.Of(context)?.Scopes.Add(Scopes.InferCreate);
        CallerContext.RequireScope(context.User, Scopes.InferCreate);
        var model = JsonFields.RequiredString(payload, "model", "payload.");
        AuditFeature.Of(context)?.Model = model;
        var maxTokens = JsonFields.OptionalInt(payload, "max_tokens", "payload.", 1, MaxGenerationTokens) ?? 256;
        var temperature = JsonFields.OptionalDouble(payload, "temperature", "payload.", 0, 2);
        var messages = Messages(payload);
        var stop = payload.TryGetProperty("stop", out var stopValue) && stopValue.ValueKind != JsonValueKind.Null
            ? JsonFields.Inputs(stopValue, "payload.stop", 16, 256)
            : null;

        // Worst case: every character of the prompt a token, plus max_tokens written.
        var (flat, price) = (spend.Prices.EdgeRequestMicros, spend.Prices.EdgeGenerationTokenMicros);
        var worstTokens = messages.Sum(m => m.Content.Length) + maxTokens;
        await using var ticket = await spend.ReserveAsync(
            context, new SpendEstimate("generate", "edge", flat + (price * worstTokens), worstTokens), context.RequestAborted);
        var result = await router.GenerateAsync(
            CallerContext.From(context.User).Tenant, new GenerationRequest(model, messages, maxTokens, temperature, stop), context.RequestAborted);
        var charge = await ticket.CommitAsync(flat + (price * (result.PromptTokens + result.CompletionTokens)), result.PromptTokens, result.CompletionTokens);
        context.Response.Headers[EmbeddingsEndpoints.DeviceHeader] = result.DeviceId;
        SpendGuard.WriteCharge(context, charge, $"edge:{result.DeviceId}");
        return new InferGenerateResponse(model, result.DeviceId, result.Text, result.StopReason, new InferUsage(result.PromptTokens, result.CompletionTokens));
    }

    /// <summary>Either <c>prompt</c> (one user turn) or <c>messages</c>, with an optional <c>system</c> prompt.</summary>
    private static List<ChatMessage> Messages(JsonElement payload)
    {
        var messages = new List<ChatMessage>();
        if (JsonFields.OptionalString(payload, "system", "payload.") is { Length: > 0 } system)
        {
            messages.Add(new ChatMessage("system", system));
        }

        var prompt = JsonFields.OptionalString(payload, "prompt", "payload.");
        var hasMessages = payload.TryGetProperty("messages", out var list) && list.ValueKind != JsonValueKind.Null;
        if (prompt is not null == hasMessages)
        {
            throw ProblemException.BadRequest("payload needs exactly one of prompt or messages.");
        }

        if (prompt is not null)
        {
            messages.Add(new ChatMessage("user", prompt.Length > 0 ? prompt : throw ProblemException.BadRequest("payload.prompt must not be empty.")));
            return messages;
        }

        if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
        {
            throw ProblemException.BadRequest("payload.messages must be a non-empty array.");
        }

        var index = 0;
        foreach (var message in list.EnumerateArray())
        {
            var path = $"payload.messages[{index++}].";
            var role = JsonFields.RequiredString(message, "role", path);
            if (role is not ("user" or "assistant" or "system"))
            {
                throw ProblemException.BadRequest($"{path}role must be 'user', 'assistant' or 'system'.");
            }

            messages.Add(new ChatMessage(role, JsonFields.RequiredString(message, "content", path)));
        }

        return messages;
    }
}
