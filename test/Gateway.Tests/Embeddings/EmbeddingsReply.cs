namespace Outpost.Gateway.Tests.Embeddings;

/// <summary>
/// A successful <c>POST /v1/embeddings</c>: the vectors in index order, the routing headers, and the Server-Timing
/// metrics by name (milliseconds).
/// </summary>
internal sealed record EmbeddingsReply(
    IReadOnlyList<float[]> Vectors, string Device, string Cache, int PromptTokens, int TotalTokens, IReadOnlyDictionary<string, double> Timings);
