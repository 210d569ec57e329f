namespace Outpost.Grains.Inference;

/// <summary>The vectors for an <see cref="EmbeddingRequest"/>, in input order.</summary>
/// <param name="Vectors">One L2-normalised vector per input.</param>
/// <param name="PromptTokens">Tokens the model read, summed over the inputs (special tokens included).</param>
/// <param name="DeviceId">The device that computed them.</param>
/// <param name="InputTokens">Tokens the model read per input, in input order.</param>
[GenerateSerializer, Immutable, Alias("outpost.EmbeddingResult")]
public sealed record EmbeddingResult(
    [property: Id(0)] IReadOnlyList<float[]> Vectors,
    [property: Id(1)] int PromptTokens,
    [property: Id(2)] string DeviceId,
    [property: Id(3)] IReadOnlyList<int>? InputTokens = null);
