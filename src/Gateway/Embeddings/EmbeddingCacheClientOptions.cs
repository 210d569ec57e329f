using System.ComponentModel.DataAnnotations;

namespace Outpost.Gateway.Embeddings;

/// <summary>How the gateway uses the cluster's embedding cache. Section <c>Embeddings:Cache</c>.</summary>
public sealed class EmbeddingCacheClientOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Embeddings:Cache";

    /// <summary>Serve identical (model, text) pairs from the cache.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Cache partitions (grains) the keys are spread over. Changing it only costs cache hits.</summary>
    [Range(1, 4096, ErrorMessage = "must be from 1 to 4096.")]
    public int Partitions { get; set; } = 16;
}
