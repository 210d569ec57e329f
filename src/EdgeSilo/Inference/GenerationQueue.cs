using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Outpost.Grains.Inference;

namespace Outpost.EdgeSilo.Inference;

/// <summary>
/// The device's line for its LLM backend. The HAT's server takes one request at a time, so completions run strictly
/// one after another (up to the backend's <see cref="IGenerationBackend.MaxConcurrency"/>); a bounded number wait,
/// more are refused at once. A caller that goes away leaves the line, or frees the backend if it was running. No
/// tenant may hold more than half the line (waiting or running), so one tenant's burst cannot lock the others out of a
/// shared device.
/// </summary>
public sealed class GenerationQueue(IGenerationBackend backend, InferenceQueueOptions options, InferenceMetrics metrics) : IDisposable
{
    private readonly SemaphoreSlim _running = new(backend.MaxConcurrency, backend.MaxConcurrency);
    private readonly Dictionary<string, int> _perTenant = new(StringComparer.Ordinal);
    private int _waiting;
    private double _latencyMs;

    public IGenerationBackend Backend => backend;

    /// <summary>Completions waiting or running.</summary>
    public int Depth
    {
        get
        {
            lock (_perTenant)
            {
                return _waiting;
            }
        }
    }

    public double LatencyMs => Volatile.Read(ref _latencyMs);

    public async IAsyncEnumerable<GenerationChunk> RunAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var tenant = request.Tenant ?? string.Empty;
        var capacity = options.MaxGenerationQueueDepth + backend.MaxConcurrency;
        string? refusal = null;
        lock (_perTenant)
        {
            var own = _perTenant.GetValueOrDefault(tenant);
            if (_waiting + 1 > capacity)
            {
                refusal = $"The LLM queue is full ({options.MaxGenerationQueueDepth} waiting).";
            }
            else if (own > 0 && own + 1 > Math.Max(1, capacity / 2))
            {
                refusal = $"This tenant's share of the LLM queue is full ({own} of {capacity} places).";
            }
            else
            {
                _waiting++;
                _perTenant[tenant] = own + 1;
            }
        }

        if (refusal is not null)
        {
            metrics.Rejected("generate");
            throw new InferenceRejectedException(InferenceRejection.QueueFull, refusal, TimeSpan.FromMilliseconds(Math.Max(500, LatencyMs)));
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
            lock (_perTenant)
            {
                _waiting--;
                if (--CollectionsMarshal.GetValueRefOrNullRef(_perTenant, tenant) == 0)
                {
                    _perTenant.Remove(tenant);
                }
            }

            var latency = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            Volatile.Write(ref _latencyMs, (0.8 * _latencyMs) + (0.2 * latency));
            metrics.RequestCompleted("generate", latency);
        }
    }

    public void Dispose() => _running.Dispose();
}
