namespace Outpost.Gateway.Contracts;

/// <summary>The answer of <c>POST /v1/infer</c> for <c>task: "embed"</c>.</summary>
public sealed record InferEmbedResponse(string Model, string Device, IReadOnlyList<InferEmbedding> Data, InferUsage Usage)
{
    public string Task => "embed";
}

public sealed record InferEmbedding(int Index, object Embedding);

/// <summary>The answer of <c>POST /v1/infer</c> for <c>task: "generate"</c>.</summary>
public sealed record InferGenerateResponse(string Model, string Device, string Text, string StopReason, InferUsage Usage)
{
    public string Task => "generate";
}

public sealed record InferUsage(int PromptTokens, int CompletionTokens);
