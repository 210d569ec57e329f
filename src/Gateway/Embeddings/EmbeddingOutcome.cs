namespace Outpost.Gateway.Embeddings;

/// <summary>The vectors for a request, where they came from, and what they cost in tokens.</summary>
/// <param name="Vectors">One vector per input, in input order.</param>
/// <param name="PromptTokens">Tokens the model read (or would have read, for cache hits).</param>
/// <param name="DeviceId">The device that computed the misses, or null when everything came from the cache.</param>
/// <param name="CacheHits">How many inputs the cache answered.</param>
/// <param name="CacheTime">How long the cache lookup took.</param>
/// <param name="DeviceTime">How long the device took to answer the misses, hops and queue included (zero for none).</param>
public sealed record EmbeddingOutcome(
    IReadOnlyList<float[]> Vectors, int PromptTokens, string? DeviceId, int CacheHits, TimeSpan CacheTime, TimeSpan DeviceTime)
{
    /// <summary><c>hit</c>, <c>miss</c> or <c>partial</c>, for the <c>X-Outpost-Cache</c> header.</summary>
    public string CacheStatus => CacheHits == 0 ? "miss" : CacheHits == Vectors.Count ? "hit" : "partial";
}
