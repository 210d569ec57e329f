using System.Diagnostics;
using System.Runtime.CompilerServices;
using Outpost.Grains.Inference;

namespace Outpost.EdgeSilo.Inference;

/// <summary>
/// The device's line for its LLM backend. The HAT's server takes one request at a time, so completions run strictly
/// one after another (up to the backend's <see cref="IGenerationBackend.MaxConcurrency"/>); a bounded number wait,
/// more are refused at once. A caller that goes away leaves the line, or frees the backend if it was running.
/// </summary>
public sealed class GenerationQueue(IGenerationBackend backend, InferenceQueueOptions options, InferenceMetrics metrics) : IDisposable
{
    private readonly SemaphoreSlim _running = new(backend.MaxConcurrency, backend.MaxConcurrency);
    private int _waiting;
    private double _latencyMs;

    public IGenerationBackend Backend => backend;

    /// <summary>Completions waiting or running.</summary>
    public int Depth => Volatile.Read(ref _waiting);

    public double LatencyMs => Volatile.Read(ref _latencyMs);

    public async IAsyncEnumerable<GenerationChunk> RunAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Interlocked.Increment(ref _waiting) > options.MaxGenerationQueueDepth + backend.MaxConcurrency)
        {
            Interlocked.Decrement(ref _waiting);
            metrics.Rejected("generate");
            throw new InferenceRejectedException(
                InferenceRejection.QueueFull,
                $"The LLM queue is full ({options.MaxGenerationQueueDepth} waiting).",
                TimeSpan.FromMilliseconds(Math.Max(500, LatencyMs)));
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            await _running.WaitAsync(cancellationToken);
            try
            {
                await foreach (var chunk in backend.GenerateAsync(request, cancellationToken))
                {
                    if (chunk.Done)
                    {
                        metrics.Tokens("generate", chunk.PromptTokens + chunk.CompletionTokens);
                    }

                    yield return chunk;
                }
            }
            finally
            {
                _running.Release();
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
            var latency = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            Volatile.Write(ref _latencyMs, (0.8 * _latencyMs) + (0.2 * latency));
            metrics.RequestCompleted("generate", latency);
        }
    }

    public void Dispose() => _running.Dispose();
}
