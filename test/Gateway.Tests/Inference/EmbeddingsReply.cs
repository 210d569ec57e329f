namespace Outpost.Gateway.Tests.Inference;

/// <summary>A successful <c>POST /v1/embeddings</c>: the vectors in index order and the routing headers.</summary>
internal sealed record EmbeddingsReply(IReadOnlyList<float[]> Vectors, string Device, string Cache, int PromptTokens, int TotalTokens);
