namespace Outpost.Grains.Inference;

/// <summary>A whole completion.</summary>
[GenerateSerializer, Immutable, Alias("outpost.GenerationResult")]
public sealed record GenerationResult(
    [property: Id(0)] string Text,
    [property: Id(1)] int PromptTokens,
    [property: Id(2)] int CompletionTokens,
    [property: Id(3)] string StopReason,
    [property: Id(4)] string DeviceId);
