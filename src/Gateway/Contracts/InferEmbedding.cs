namespace Outpost.Gateway.Contracts;

public sealed record InferEmbedding(int Index, object Embedding);
