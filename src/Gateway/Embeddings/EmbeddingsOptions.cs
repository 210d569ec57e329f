using System.ComponentModel.DataAnnotations;

namespace Outpost.Gateway.Embeddings;

/// <summary>Limits of the embedding APIs. Section <c>Embeddings</c>.</summary>
public sealed class EmbeddingsOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Embeddings";

    /// <summary>The most inputs one request may carry.</summary>
    [Range(1, 100_000, ErrorMessage = "must be from 1 to 100000.")]
    public int MaxInputs { get; set; } = 512;

    /// <summary>The longest input accepted, in characters, before it is even tokenized.</summary>
    [Range(1, 10_000_000, ErrorMessage = "must be from 1 to 10000000.")]
    public int MaxInputCharacters { get; set; } = 32_768;

    /// <summary>What to do with an input longer than the model's window: reject it (400, naming the limit) or cut it.</summary>
    public bool TruncateLongInputs { get; set; }
}
