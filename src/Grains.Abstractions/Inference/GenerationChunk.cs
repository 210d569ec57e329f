namespace Outpost.Grains.Inference;

/// <summary>A piece of a streamed completion. The last chunk has <see cref="Done"/> set and carries usage.</summary>
/// <param name="Text">Text generated since the previous chunk.</param>
/// <param name="Done">True on the final chunk.</param>
/// <param name="PromptTokens">On the final chunk: tokens the model read.</param>
/// <param name="CompletionTokens">On the final chunk: tokens the model wrote.</param>
/// <param name="StopReason">On the final chunk: <c>end_turn</c>, <c>max_tokens</c> or <c>stop_sequence</c>.</param>
[GenerateSerializer, Immutable, Alias("outpost.GenerationChunk")]
public sealed record GenerationChunk(
    [property: Id(0)] string Text,
    [property: Id(1)] bool Done,
    [property: Id(2)] int PromptTokens = 0,
    [property: Id(3)] int CompletionTokens = 0,
    [property: Id(4)] string? StopReason = null);
