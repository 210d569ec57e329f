using System.Diagnostics;
using Outpost.Grains.Inference;

namespace Outpost.EdgeSilo.Inference;

/// <summary>
/// The device's embedding queue: a bounded line of requests and one worker that feeds the model batches of them.
/// Each request is a contiguous slice of a batch and gets exactly that slice back; a cancelled request that has not
/// reached the model leaves the line. The line is fair between tenants: each tenant waits in a line of its own, batches
/// take one request from each tenant in turn, and no tenant may hold more than three quarters of the queue's depth, so
/// one tenant's burst neither delays another's request behind all of it nor fills the queue against it.
/// </summary>
public sealed partial class EmbeddingQueue : IAsyncDisposable
{
    private readonly IEmbeddingBackend _backend;
    private readonly InferenceQueueOptions _options;
    private readonly InferenceMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Dictionary<string, Queue<WorkItem>> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _tenantDepth = new(StringComparer.Ordinal);
    private readonly Queue<string> _turns = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Thread _worker;
    private int _depth;
    private int _wake;
    private double _latencyMs;
    private double _msPerText = 5;
    private int _lastBatchSize;

    public EmbeddingQueue(IEmbeddingBackend backend, InferenceQueueOptions options, InferenceMetrics metrics, ILogger<EmbeddingQueue> logger)
    {
        _backend = backend;
        _options = options;
        _metrics = metrics;
        _logger = logger;
        // The model runs synchronously for milliseconds at a time: on a thread of its own it never takes a thread-pool
        // thread away from the silo's networking and grain turns, which on a two-core device made every request slower.
        _worker = new Thread(Run) { IsBackground = true, Name = $"embeddings:{backend.Model}" };
        _worker.Start();
    }

    public IEmbeddingBackend Backend => _backend;

    /// <summary>Texts waiting for the model.</summary>
    public int Depth => Volatile.Read(ref _depth);

    /// <summary>Moving average of enqueue-to-result time per request.</summary>
    public double LatencyMs => Volatile.Read(ref _latencyMs);

    public int LastBatchSize => Volatile.Read(ref _lastBatchSize);

    /// <summary>
    /// Queues <paramref name="texts"/> and completes with one vector per text. Throws
    /// <see cref="InferenceRejectedException"/> with <see cref="InferenceRejection.QueueFull"/> at once when the line is full.
    /// </summary>
    public Task<float[][]> EnqueueAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken) =>
        EnqueueAsync(string.Empty, texts, cancellationToken);

    /// <summary>As above, for <paramref name="tenant"/>'s line (see the class summary).</summary>
    public Task<float[][]> EnqueueAsync(string tenant, IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(texts);
        cancellationToken.ThrowIfCancellationRequested();
        var item = new WorkItem(tenant, texts);
        lock (_pending)
        {
            var own = _tenantDepth.GetValueOrDefault(tenant);
            var share = Math.Max(1, _options.MaxEmbeddingQueueDepth * 3 / 4);
            var full = _depth + texts.Count > _options.MaxEmbeddingQueueDepth;
            if (full || (own > 0 && own + texts.Count > share))
            {
                _metrics.Rejected("embed");
                var retryAfter = TimeSpan.FromMilliseconds(Math.Max(100, _depth * _msPerText));
                throw new InferenceRejectedException(
                    InferenceRejection.QueueFull,
                    full
                        ? $"The embedding queue is full ({_depth} texts waiting, limit {_options.MaxEmbeddingQueueDepth})."
                        : $"This tenant's share of the embedding queue is full ({own} texts waiting, share {share} of {_options.MaxEmbeddingQueueDepth}).",
                    retryAfter);
            }

            _depth += texts.Count;
            _tenantDepth[tenant] = own + texts.Count;
            if (!_pending.TryGetValue(tenant, out var line))
            {
                _pending[tenant] = line = new Queue<WorkItem>();
            }

            if (line.Count == 0)
            {
                _turns.Enqueue(tenant);
            }

            line.Enqueue(item);
        }

        if (cancellationToken.CanBeCanceled)
        {
            item.Registration = cancellationToken.UnsafeRegister(
                static state =>
                {
                    var (queue, work) = ((EmbeddingQueue, WorkItem))state!;
                    queue.Cancel(work);
                },
                (this, item));
        }

        // Wake the worker only on the idle-to-busy edge; while it is busy it drains the line by itself.
        if (Interlocked.Exchange(ref _wake, 1) == 0)
        {
            _signal.Release();
        }

        return item.Completion.Task;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await Task.Run(_worker.Join);
        lock (_pending)
        {
            foreach (var item in _pending.Values.SelectMany(line => line))
            {
                item.Completion.TrySetException(new ObjectDisposedException(nameof(EmbeddingQueue)));
            }

            _pending.Clear();
            _turns.Clear();
        }

        _stopping.Dispose();
        _signal.Dispose();
    }

    private void Cancel(WorkItem item)
    {
        // Only a request still waiting leaves the line; one already in a batch finishes with it, unseen.
        lock (_pending)
        {
            if (Interlocked.CompareExchange(ref item.State, WorkItem.Cancelled, WorkItem.Waiting) != WorkItem.Waiting)
            {
                return;
            }

            Leave(item);
        }

        item.Completion.TrySetCanceled();
    }

    private void Run()
    {
        var batch = new List<WorkItem>();
        var texts = new List<string>();
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                _signal.Wait(_stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Volatile.Write(ref _wake, 0);
            while (true)
            {
                Take(batch, texts);
                if (batch.Count == 0)
                {
                    break;
                }

                if (texts.Count < _options.MaxBatchSize && _options.MaxBatchWait > TimeSpan.Zero)
                {
                    Thread.Sleep(_options.MaxBatchWait);
                    Take(batch, texts);
                }

                Run(batch, texts);
                batch.Clear();
                texts.Clear();
            }
        }
    }

    /// <summary>
    /// Moves waiting requests into the batch while they fit, one from each tenant's line in turn; an oversized request
    /// runs alone.
    /// </summary>
    private void Take(List<WorkItem> batch, List<string> texts)
    {
        lock (_pending)
        {
            while (_turns.TryPeek(out var tenant))
            {
                var line = _pending[tenant];
                if (!line.TryPeek(out var next))
                {
                    _turns.Dequeue();
                    continue;
                }

                if (Volatile.Read(ref next.State) == WorkItem.Cancelled)
                {
                    line.Dequeue();
                    Rotate(tenant, line, keepTurn: true);
                    continue;
                }

                if (texts.Count > 0 && texts.Count + next.Texts.Count > _options.MaxBatchSize)
                {
                    break;
                }

                line.Dequeue();
                Rotate(tenant, line, keepTurn: false);
                if (Interlocked.CompareExchange(ref next.State, WorkItem.Taken, WorkItem.Waiting) != WorkItem.Waiting)
                {
                    continue;
                }

                Leave(next);
                batch.Add(next);
                texts.AddRange(next.Texts);
            }
        }
    }

    /// <summary>After a tenant's request left its line: its turn passes on (or stays, for a skipped one); an empty line leaves the rota.</summary>
    private void Rotate(string tenant, Queue<WorkItem> line, bool keepTurn)
    {
        if (line.Count == 0)
        {
            _turns.Dequeue();
            _pending.Remove(tenant);
        }
        else if (!keepTurn)
        {
            _turns.Enqueue(_turns.Dequeue());
        }
    }

    /// <summary>Takes a request's texts off the queue's and its tenant's depth (under the lock).</summary>
    private void Leave(WorkItem item)
    {
        _depth -= item.Texts.Count;
        var own = _tenantDepth[item.Tenant] - item.Texts.Count;
        if (own <= 0)
        {
            _tenantDepth.Remove(item.Tenant);
        }
        else
        {
            _tenantDepth[item.Tenant] = own;
        }
    }

    private void Run(List<WorkItem> batch, List<string> texts)
    {
        var started = Stopwatch.GetTimestamp();
        float[][] vectors;
        try
        {
            vectors = EmbedInChunks(texts);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogBatchFailed(_logger, ex, texts.Count);
            foreach (var item in batch)
            {
                item.Completion.TrySetException(ex);
            }

            return;
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        _metrics.BatchCompleted(texts.Count, elapsed);
        Volatile.Write(ref _lastBatchSize, texts.Count);
        Volatile.Write(ref _msPerText, (0.8 * _msPerText) + (0.2 * elapsed.TotalMilliseconds / texts.Count));
        var offset = 0;
        foreach (var item in batch)
        {
            var slice = vectors[offset..(offset + item.Texts.Count)];
            offset += item.Texts.Count;
            item.Registration.Dispose();
            var latency = Stopwatch.GetElapsedTime(item.EnqueuedAt).TotalMilliseconds;
            Volatile.Write(ref _latencyMs, (0.9 * _latencyMs) + (0.1 * latency));
            _metrics.RequestCompleted("embed", latency);
            item.Completion.TrySetResult(slice);
        }
    }

    private float[][] EmbedInChunks(List<string> texts)
    {
        if (texts.Count <= _options.MaxBatchSize)
        {
            return _backend.Embed(texts);
        }

        var result = new float[texts.Count][];
        for (var start = 0; start < texts.Count; start += _options.MaxBatchSize)
        {
            var count = Math.Min(_options.MaxBatchSize, texts.Count - start);
            _backend.Embed(texts.GetRange(start, count)).CopyTo(result, start);
        }

        return result;
    }

    private sealed class WorkItem(string tenant, IReadOnlyList<string> texts)
    {
        public string Tenant { get; } = tenant;

        public const int Waiting = 0;
        public const int Taken = 1;
        public const int Cancelled = 2;

        public int State = Waiting;

        public IReadOnlyList<string> Texts { get; } = texts;

        public TaskCompletionSource<float[][]> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long EnqueuedAt { get; } = Stopwatch.GetTimestamp();

        public CancellationTokenRegistration Registration { get; set; }
    }
}
