using Microsoft.Extensions.Options;
using Outpost.Grains.Placement;

namespace Outpost.Grains.Inference;

/// <summary>A least-recently-used map from cache key to vector. Not persisted: it is a cache.</summary>
[ControlPlane]
public sealed class EmbeddingCacheGrain(IOptions<EmbeddingCacheOptions> options) : Grain, IEmbeddingCacheGrain
{
    private readonly Dictionary<string, LinkedListNode<CachedEmbedding>> _index = new(StringComparer.Ordinal);
    private readonly LinkedList<CachedEmbedding> _recency = new();

    public Task<CachedEmbedding?[]> GetManyAsync(string[] keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var found = new CachedEmbedding?[keys.Length];
        for (var i = 0; i < keys.Length; i++)
        {
            if (_index.TryGetValue(keys[i], out var node))
            {
                _recency.Remove(node);
                _recency.AddFirst(node);
                found[i] = node.Value;
            }
        }

        return Task.FromResult(found);
    }

    public Task SetManyAsync(CachedEmbedding[] entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var capacity = options.Value.MaxEntriesPerPartition;
        foreach (var entry in entries)
        {
            if (_index.Remove(entry.Key, out var existing))
            {
                _recency.Remove(existing);
            }

            if (capacity == 0)
            {
                continue;
            }

            while (_index.Count >= capacity && _recency.Last is { } oldest)
            {
                _recency.RemoveLast();
                _index.Remove(oldest.Value.Key);
            }

            _index[entry.Key] = _recency.AddFirst(entry);
        }

        return Task.CompletedTask;
    }

    public Task<int> CountAsync() => Task.FromResult(_index.Count);
}
