namespace Outpost.Grains.Inference;

/// <summary>A vector kept in the embedding cache.</summary>
/// <param name="Key">The cache key: a digest of the model and the text (and, with tenants, the tenant).</param>
/// <param name="Vector">The vector.</param>
/// <param name="Tokens">Tokens the model read for the text, so a cache hit reports the same usage as a miss.</param>
[GenerateSerializer, Immutable, Alias("outpost.CachedEmbedding")]
public sealed record CachedEmbedding(
    [property: Id(0)] string Key,
    [property: Id(1)] float[] Vector,
    [property: Id(2)] int Tokens);
