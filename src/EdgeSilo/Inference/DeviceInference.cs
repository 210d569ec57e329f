using Microsoft.Extensions.Options;
using Outpost.Grains.EdgeDevices;
using Outpost.Grains.Inference;

namespace Outpost.EdgeSilo.Inference;

/// <summary>
/// The device's backends and their queues. One per edge silo; the device grain is its only caller, so every request
/// for this device's hardware goes through the grain into these queues.
/// </summary>
public sealed class DeviceInference : IAsyncDisposable
{
    private readonly Dictionary<string, EmbeddingQueue> _embeddings = new(StringComparer.Ordinal);
    private readonly List<GenerationQueue> _generation = [];

    public DeviceInference(
        IEnumerable<IEmbeddingBackend> embeddingBackends,
        IEnumerable<IGenerationBackend> generationBackends,
        IOptions<InferenceQueueOptions> options,
        InferenceMetrics metrics,
        ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(embeddingBackends);
        ArgumentNullException.ThrowIfNull(generationBackends);
        ArgumentNullException.ThrowIfNull(options);
        foreach (var backend in embeddingBackends)
        {
            _embeddings[backend.Model] = new EmbeddingQueue(backend, options.Value, metrics, loggerFactory.CreateLogger<EmbeddingQueue>());
        }

        foreach (var backend in generationBackends)
        {
            _generation.Add(new GenerationQueue(backend, options.Value, metrics));
        }
    }

    public IEnumerable<GenerationQueue> GenerationQueues => _generation;

    /// <summary>Every model the device serves now, across backends, ordered by name.</summary>
    public IReadOnlyList<DeviceModel> Models =>
        _embeddings.Values.SelectMany(q => q.Backend.Models)
            .Concat(_generation.SelectMany(q => q.Backend.Models))
            .OrderBy(m => m.Name, StringComparer.Ordinal)
            .ToList();

    public DeviceLoad Load => new(
        _embeddings.Values.Sum(q => q.Depth),
        _generation.Sum(q => q.Depth),
        _embeddings.Values.Select(q => q.LatencyMs).DefaultIfEmpty(0).Max(),
        _generation.Select(q => q.LatencyMs).DefaultIfEmpty(0).Max(),
        _embeddings.Values.Select(q => q.LastBatchSize).DefaultIfEmpty(0).Max());

    public EmbeddingQueue? FindEmbedding(string model) => _embeddings.GetValueOrDefault(model);

    public GenerationQueue? FindGeneration(string model) =>
        _generation.FirstOrDefault(q => q.Backend.Models.Any(m => string.Equals(m.Name, model, StringComparison.Ordinal)));

    public async ValueTask DisposeAsync()
    {
        foreach (var queue in _embeddings.Values)
        {
            await queue.DisposeAsync();
        }

        foreach (var queue in _generation)
        {
            queue.Dispose();
        }
    }
}
