namespace Outpost.Gateway.Contracts;

/// <summary>The answer of <c>POST /v1/infer</c> for <c>task: "embed"</c>.</summary>
public sealed record InferEmbedResponse(string Model, string Device, IReadOnlyList<InferEmbedding> Data, InferUsage Usage)
{
    public string Task => "embed";
}
