namespace Outpost.Gateway.Contracts;

public sealed record InferUsage(int PromptTokens, int CompletionTokens);
