using System.ComponentModel.DataAnnotations;

namespace Outpost.Grains.Inference;

/// <summary>Size of the cluster's embedding cache. Section <c>EmbeddingCache</c> on the control silo.</summary>
public sealed class EmbeddingCacheOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "EmbeddingCache";

    /// <summary>Entries kept per cache partition; a 384-dimension entry takes about 1.7 KB.</summary>
    [Range(0, 10_000_000, ErrorMessage = "must be from 0 to 10000000.")]
    public int MaxEntriesPerPartition { get; set; } = 2048;
}
