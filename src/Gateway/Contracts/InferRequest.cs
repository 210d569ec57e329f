using System.Text.Json;

namespace Outpost.Gateway.Contracts;

/// <summary>
/// The body of <c>POST /v1/infer</c>: <c>{"task": "embed" | "generate", "payload": {...}}</c>. An embed payload is
/// <c>{model, input, encoding_format?}</c>; a generate payload is <c>{model, prompt | messages, system?, max_tokens,
/// temperature?, stop?}</c>.
/// </summary>
public sealed record InferRequest(string? Task, JsonElement Payload);
