using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Outpost.Grains.Inference;

namespace Outpost.Gateway.Embeddings;

/// <summary>
/// The gateway's side of the cluster's embedding cache: keys are SHA-256 digests of (tenant, model, text), spread over cache
/// partition grains. The cache is an optimisation: when it cannot answer, the request is computed as if it had missed.
/// </summary>
public sealed partial class EmbeddingCache(IClusterClient cluster, IOptions<EmbeddingCacheClientOptions> options, ILogger<EmbeddingCache> logger)
{
    public bool Enabled => options.Value.Enabled;

    /// <summary>The cache key of a text for a model, within one tenant: entries never cross tenants.</summary>
    public static string KeyOf(string tenant, string model, string text)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(text);
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        var bytes = Encoding.UTF8.GetBytes($"{tenant}\n{model}\n{text}");
        SHA256.HashData(bytes, digest);
        return Convert.ToBase64String(digest);
    }

    /// <summary>One slot per key: the cached entry, or null.</summary>
    public async Task<CachedEmbedding?[]> LookupAsync(string[] keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var found = new CachedEmbedding?[keys.Length];
        if (!Enabled)
        {
            return found;
        }

        try
        {
            var byPartition = Enumerable.Range(0, keys.Length).GroupBy(i => PartitionOf(keys[i])).ToList();
            var lookups = byPartition.Select(group =>
                cluster.GetGrain<IEmbeddingCacheGrain>(group.Key).GetManyAsync(group.Select(i => keys[i]).ToArray())).ToList();
            var results = await Task.WhenAll(lookups).WaitAsync(cancellationToken);
            for (var g = 0; g < byPartition.Count; g++)
            {
                var slot = 0;
                foreach (var index in byPartition[g])
                {
                    found[index] = results[g][slot++];
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogCacheUnavailable(logger, ex);
            Array.Clear(found);
        }

        return found;
    }

    /// <summary>Stores entries without waiting for the cache.</summary>
    public void Store(IReadOnlyList<CachedEmbedding> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (!Enabled || entries.Count == 0)
        {
            return;
        }

        foreach (var group in entries.GroupBy(e => PartitionOf(e.Key)))
        {
            // One-way calls: the grain's answer is not awaited, and a lost store is only a later miss.
            _ = cluster.GetGrain<IEmbeddingCacheGrain>(group.Key).SetManyAsync(group.ToArray());
        }
    }

    private long PartitionOf(string key)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        Convert.TryFromBase64String(key, digest, out _);
        return BinaryPrimitives.ReadUInt32LittleEndian(digest) % (uint)options.Value.Partitions;
    }

    [LoggerMessage(EventId = 40, EventName = "EmbeddingCacheUnavailable", Level = LogLevel.Warning, Message = "The embedding cache did not answer; computing as a miss")]
    private static partial void LogCacheUnavailable(ILogger logger, Exception exception);
}
