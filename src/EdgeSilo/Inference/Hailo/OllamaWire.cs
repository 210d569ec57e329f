using System.Text.Json.Serialization;

namespace Outpost.EdgeSilo.Inference.Hailo;

// The parts of the Ollama HTTP API that the backend uses. Field names are Ollama's snake_case; members the backend
// does not read (durations, digests, sizes) are left out and ignored on the way in.

/// <summary>Body of <c>POST /api/chat</c>.</summary>
internal sealed record OllamaChatRequest(
    string Model,
    IReadOnlyList<OllamaMessage> Messages,
    bool Stream,
    OllamaModelOptions Options,
    string? KeepAlive);

/// <summary>One message of a chat, in a request or in a streamed response line.</summary>
internal sealed record OllamaMessage(string Role, string Content);

/// <summary>The model parameters Ollama takes under <c>options</c>.</summary>
internal sealed record OllamaModelOptions(int NumPredict, double? Temperature, IReadOnlyList<string>? Stop);

/// <summary>
/// One NDJSON line of a streamed <c>/api/chat</c> response, or the whole body of a non-streamed one. A failure after
/// the headers were sent arrives as a line with only <see cref="Error"/>.
/// </summary>
internal sealed record OllamaChatResponse(
    string? Model,
    OllamaMessage? Message,
    bool Done,
    string? DoneReason,
    int? PromptEvalCount,
    int? EvalCount,
    string? Error);

/// <summary>Body of <c>GET /api/tags</c>: the models the server has.</summary>
internal sealed record OllamaTagsResponse(IReadOnlyList<OllamaModelInfo>? Models);

/// <summary>One model in <see cref="OllamaTagsResponse"/>; newer servers send both names, older ones only <c>name</c>.</summary>
internal sealed record OllamaModelInfo(string? Name, string? Model);

/// <summary>The body Ollama sends with a non-success status.</summary>
internal sealed record OllamaError(string? Error);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(OllamaChatRequest))]
[JsonSerializable(typeof(OllamaChatResponse))]
[JsonSerializable(typeof(OllamaTagsResponse))]
[JsonSerializable(typeof(OllamaError))]
internal sealed partial class OllamaWireContext : JsonSerializerContext;
