namespace Outpost.Gateway.Contracts;

public sealed record EmbeddingsUsage(int PromptTokens, int TotalTokens);
