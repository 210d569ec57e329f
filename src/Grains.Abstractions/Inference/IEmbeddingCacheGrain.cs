using Orleans.Concurrency;

namespace Outpost.Grains.Inference;

/// <summary>
/// One partition of the cluster's embedding cache, keyed by partition number. Bounded (least recently used entries
/// go first) and in memory only: a lost partition costs recomputation, never correctness.
/// </summary>
[Alias("outpost.IEmbeddingCacheGrain")]
public interface IEmbeddingCacheGrain : IGrainWithIntegerKey
{
    /// <summary>Looks up keys; the result has one slot per key, null where the cache has nothing.</summary>
    [Alias("GetManyAsync")]
    Task<CachedEmbedding?[]> GetManyAsync(string[] keys);

    /// <summary>Stores entries. One-way: the caller does not wait for the cache.</summary>
    [Alias("SetManyAsync"), OneWay]
    Task SetManyAsync(CachedEmbedding[] entries);

    /// <summary>How many entries the partition holds.</summary>
    [Alias("CountAsync")]
    Task<int> CountAsync();
}
