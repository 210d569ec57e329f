using System.Text.Json;

namespace Outpost.Gateway.Contracts;

/// <summary>The body of <c>POST /v1/embeddings</c>, as OpenAI's embeddings API defines it.</summary>
/// <param name="Input">A string or an array of strings. (Token arrays are refused: devices tokenize themselves.)</param>
/// <param name="Model">The embedding model.</param>
/// <param name="EncodingFormat"><c>float</c> (default) or <c>base64</c> (little-endian float32).</param>
/// <param name="Dimensions">Accepted only when equal to the model's dimensions.</param>
/// <param name="User">An end-user id; accepted and ignored.</param>
public sealed record EmbeddingsRequest(JsonElement Input, string? Model, string? EncodingFormat, int? Dimensions, string? User);
