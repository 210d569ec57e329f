using System.Diagnostics;
using Outpost.Grains.Inference;
using Outpost.Gateway.Routing;

namespace Outpost.Gateway.Embeddings;

/// <summary>Answers embedding requests from the cache where it can and from an edge device for the rest.</summary>
public sealed class EmbeddingService(EmbeddingCache cache, EdgeRouter router)
{
    public async Task<EmbeddingOutcome> EmbedAsync(
        string tenant, string model, IReadOnlyList<string> inputs, bool truncate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var vectors = new float[inputs.Count][];
        var tokens = new int[inputs.Count];
        var keys = cache.Enabled ? inputs.Select(text => EmbeddingCache.KeyOf(tenant, model, text)).ToArray() : [];
        var started = Stopwatch.GetTimestamp();
        var cached = cache.Enabled ? await cache.LookupAsync(keys, cancellationToken) : new CachedEmbedding?[inputs.Count];
        var cacheTime = Stopwatch.GetElapsedTime(started);
        var deviceTime = TimeSpan.Zero;

        var misses = new List<int>(inputs.Count);
        for (var i = 0; i < inputs.Count; i++)
        {
            if (cached[i] is { } hit)
            {
                (vectors[i], tokens[i]) = (hit.Vector, hit.Tokens);
            }
            else
            {
                misses.Add(i);
            }
        }

        string? deviceId = null;
        if (misses.Count > 0)
        {
            var texts = misses.Count == inputs.Count ? inputs : misses.Select(i => inputs[i]).ToList();
            started = Stopwatch.GetTimestamp();
            var result = await router.EmbedAsync(tenant, new EmbeddingRequest(model, texts, truncate, tenant), cancellationToken);
            deviceTime = Stopwatch.GetElapsedTime(started);
            deviceId = result.DeviceId;
            var stored = new List<CachedEmbedding>(misses.Count);
            for (var m = 0; m < misses.Count; m++)
            {
                var i = misses[m];
                vectors[i] = result.Vectors[m];
                tokens[i] = result.InputTokens?[m] ?? 0;
                if (cache.Enabled)
                {
                    stored.Add(new CachedEmbedding(keys[i], vectors[i], tokens[i]));
                }
            }

            cache.Store(stored);
            if (result.InputTokens is null)
            {
                // A device of an older build reports only the total.
                return new EmbeddingOutcome(vectors, result.PromptTokens + tokens.Sum(), deviceId, inputs.Count - misses.Count, cacheTime, deviceTime);
            }
        }

        return new EmbeddingOutcome(vectors, tokens.Sum(), deviceId, inputs.Count - misses.Count, cacheTime, deviceTime);
    }
}
