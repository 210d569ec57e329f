using Outpost.Grains.Inference;

namespace Outpost.EdgeSilo.Inference;

/// <summary>A small-model text generator, such as the AI HAT+ 2's LLM server.</summary>
public interface IGenerationBackend : IInferenceBackend
{
    /// <summary>Whether the backend can run more than one completion at once (the HAT's server cannot).</summary>
    int MaxConcurrency { get; }

    /// <summary>Refreshes <see cref="IInferenceBackend.Models"/> from the server.</summary>
    Task RefreshModelsAsync(CancellationToken cancellationToken);

    /// <summary>Streams a completion; the last chunk has <see cref="GenerationChunk.Done"/> set and carries usage.</summary>
    IAsyncEnumerable<GenerationChunk> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken);
}
