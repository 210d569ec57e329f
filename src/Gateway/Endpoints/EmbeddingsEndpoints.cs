using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Outpost.Gateway.AuditLogs;
using Outpost.Gateway.Contracts;
using Outpost.Gateway.Diagnostics;
using Outpost.Gateway.Embeddings;
using Outpost.Gateway.Errors;
using Outpost.Gateway.Security;
using Outpost.Gateway.Spending;
using Outpost.Identity;

namespace Outpost.Gateway.Endpoints;

public static class EmbeddingsEndpoints
{
    public const string DeviceHeader = "X-Outpost-Device";
    public const string CacheHeader = "X-Outpost-Cache";

    public static IEndpointRouteBuilder MapEmbeddingsApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGroup("/v1/embeddings").WithTags("Embeddings")
            .MapPost("/", CreateEmbeddingsAsync)
            .RequireAuthorization(Scopes.EmbedCreate)
            .WithName("CreateEmbeddings")
            .WithSummary("Creates embeddings on an edge device; compatible with OpenAI's embeddings API.");
        return endpoints;
    }

    public static async Task<Ok<EmbeddingsResponse>> CreateEmbeddingsAsync(
        EmbeddingsRequest request, EmbeddingService embeddings, SpendGuard spend, IOptions<EmbeddingsOptions> options, HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var limits = options.Value;
        var model = string.IsNullOrWhiteSpace(request.Model) ? throw ProblemException.BadRequest("model is required.") : request.Model;
        AuditFeature.Of(context)?.Model = model;
        var base64 = ParseEncoding(request.EncodingFormat, "encoding_format");
        var inputs = JsonFields.Inputs(request.Input, "input", limits.MaxInputs, limits.MaxInputCharacters);

        var caller = CallerContext.From(context.User);
        var outcome = await EmbedMeteredAsync(embeddings, spend, context, caller.Tenant, model, inputs, limits.TruncateLongInputs);
        CheckDimensions(request.Dimensions, outcome, model);
        var data = outcome.Vectors.Select((vector, index) => new EmbeddingData(index, Encode(vector, base64))).ToList();
        return TypedResults.Ok(new EmbeddingsResponse(data, model, new EmbeddingsUsage(outcome.PromptTokens, outcome.PromptTokens)));
    }

    /// <summary>
    /// Embeds with the request's worst case reserved first (every input at the model's full window) and the tokens
    /// actually read committed after, so embedding spend is metered like any other work.
    /// </summary>
    public static async Task<EmbeddingOutcome> EmbedMeteredAsync(
        EmbeddingService embeddings, SpendGuard spend, HttpContext context, string tenant, string model, IReadOnlyList<string> inputs, bool truncate)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentNullException.ThrowIfNull(spend);
        ArgumentNullException.ThrowIfNull(inputs);
        var (flat, price) = (spend.Prices.EdgeRequestMicros, spend.Prices.EdgeEmbeddingTokenMicros);
        var maxTokens = inputs.Count * WorstCaseTokensPerInput;
        await using var ticket = await spend.ReserveAsync(
            context, new SpendEstimate("embed", "edge", flat + (price * maxTokens), maxTokens), context.RequestAborted);
        var outcome = await embeddings.EmbedAsync(tenant, model, inputs, truncate, context.RequestAborted);
        var charge = await ticket.CommitAsync(flat + (price * outcome.PromptTokens), outcome.PromptTokens, 0);
        WriteRoutingHeaders(context, outcome);
        SpendGuard.WriteCharge(context, charge, outcome.DeviceId is null ? "cache" : $"edge:{outcome.DeviceId}");
        return outcome;
    }

    /// <summary>No embedding model on the devices reads more than this many tokens per input.</summary>
    private const int WorstCaseTokensPerInput = 512;

    /// <summary>True for <c>base64</c>, false for <c>float</c> or nothing.</summary>
    public static bool ParseEncoding(string? format, string field) => format switch
    {
        null or "float" => false,
        "base64" => true,
        _ => throw ProblemException.BadRequest($"{field} must be 'float' or 'base64'."),
    };

    public static void CheckDimensions(int? requested, EmbeddingOutcome outcome, string model)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        var actual = outcome.Vectors[0].Length;
        if (requested is { } dimensions && dimensions != actual)
        {
            throw ProblemException.BadRequest($"dimensions {dimensions} is not supported: {model} makes {actual}-dimension vectors and cannot shorten them.");
        }
    }

    public static void WriteRoutingHeaders(HttpContext context, EmbeddingOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outcome);
        context.Response.Headers[DeviceHeader] = outcome.DeviceId ?? "cache";
        context.Response.Headers[CacheHeader] = outcome.CacheStatus;

        // Where the time went, for operators and benchmarks: the cluster cache's lookup and the device's answer.
        ServerTiming.Add(context, "cache", outcome.CacheTime);
        ServerTiming.Add(context, "device", outcome.DeviceTime);
    }

    /// <summary>A float array, or its little-endian float32 bytes in base64, as OpenAI's clients decode them.</summary>
    public static object Encode(float[] vector, bool base64)
    {
        ArgumentNullException.ThrowIfNull(vector);
        if (!base64)
        {
            return vector;
        }

        if (!BitConverter.IsLittleEndian)
        {
            var bytes = new byte[vector.Length * sizeof(float)];
            for (var i = 0; i < vector.Length; i++)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), vector[i]);
            }

            return Convert.ToBase64String(bytes);
        }

        return Convert.ToBase64String(MemoryMarshal.AsBytes(vector.AsSpan()));
    }
}
