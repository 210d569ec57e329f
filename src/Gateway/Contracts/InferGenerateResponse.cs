namespace Outpost.Gateway.Contracts;

/// <summary>The answer of <c>POST /v1/infer</c> for <c>task: "generate"</c>.</summary>
public sealed record InferGenerateResponse(string Model, string Device, string Text, string StopReason, InferUsage Usage)
{
    public string Task => "generate";
}
