using System.ComponentModel.DataAnnotations;

namespace Outpost.EdgeSilo.Inference;

/// <summary>Bounds of the device's inference queues. Section <c>Inference:Queue</c>.</summary>
public sealed class InferenceQueueOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Inference:Queue";

    /// <summary>The most texts the embedding model runs in one batch.</summary>
    [Range(1, 1024, ErrorMessage = "must be from 1 to 1024.")]
    public int MaxBatchSize { get; set; } = 32;

    /// <summary>
    /// How long a batch may wait for more texts once the model is free. Zero runs whatever is waiting at once; batches
    /// still form while the model is busy, which is when batching pays.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:01", ErrorMessage = "must be a time span from 00:00:00 to 00:00:01.")]
    public TimeSpan MaxBatchWait { get; set; } = TimeSpan.Zero;

    /// <summary>The most texts waiting for the embedding model; more are refused at once with a retry hint.</summary>
    [Range(1, 1_000_000, ErrorMessage = "must be from 1 to 1000000.")]
    public int MaxEmbeddingQueueDepth { get; set; } = 1024;

    /// <summary>The most completions waiting for the LLM backend (besides the one running); more are refused at once.</summary>
    [Range(0, 10_000, ErrorMessage = "must be from 0 to 10000.")]
    public int MaxGenerationQueueDepth { get; set; } = 8;
}
