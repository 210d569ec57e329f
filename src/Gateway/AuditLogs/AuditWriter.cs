using System.Collections.Concurrent;
using Npgsql;
using Outpost.AuditLog.Storage;
using Outpost.Grains.AuditLogs;

namespace Outpost.Gateway.AuditLogs;

/// <summary>
/// Makes each request's audit event durable before its response goes out. Per tenant, one write is in flight at a time
/// and the events that arrive meanwhile go together in the next; the recent size of those batches (a moving average,
/// since a busy tenant's batches alternate between the few that arrived first and the many that waited) picks the
/// path:
/// <list type="bullet">
/// <item>A small batch (a lightly loaded tenant, where latency is what counts) is staged in the audit intake
/// (<see cref="AuditIntake"/>) with one round trip to PostgreSQL and no control silo on the way. Only then is it handed
/// to the tenant's AuditLog grain, off the request's path, retried while the grain moves; the grain logs it and takes
/// it out of the intake. If the hand-over fails for good, the events stay staged and a control silo's sweeper logs
/// them.</item>
/// <item>A large batch (a busy tenant, where each event's cost is what counts and the wait for the batch outweighs a
/// hop) goes straight to the grain and is written once, not staged and then logged. If that call fails or takes longer
/// than <see cref="DirectWriteTimeout"/>, the batch is staged instead.</item>
/// </list>
/// </summary>
public sealed partial class AuditWriter(
    AuditIntake intake, IClusterClient cluster, AuditMetrics metrics, Microsoft.Extensions.Options.IOptions<AuditWriterOptions> options, ILogger<AuditWriter> logger)
{
    /// <summary>The most events in one write or one grain call.</summary>
    public const int MaxBatch = 1024;

    /// <summary>The average batch size from which a tenant's batches go straight to the grain, not through the intake.</summary>
    public const int DirectBatch = 8;

    /// <summary>
    /// How long a direct write may take before the batch is staged instead: a grain whose silo died answers only when
    /// the cluster has noticed, and meanwhile the tenant's requests would wait.
    /// </summary>
    public static readonly TimeSpan DirectWriteTimeout = TimeSpan.FromSeconds(2);

    // Staging holds responses back, so it gives up sooner than the hand-over, which holds nothing.
    private static readonly TimeSpan[] StageRetryDelays =
    [
        TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2),
    ];

    private static readonly TimeSpan[] HandOverRetryDelays =
    [
        TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(500),
        TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5),
    ];

    private readonly ConcurrentDictionary<string, TenantPipeline> _tenants = new(StringComparer.Ordinal);
    private long _handOverBacklog;

    /// <summary>Staged events held in memory for their hand-over now (at most <see cref="AuditWriterOptions.MaxHandOverBacklog"/>).</summary>
    public long HandOverBacklog => Interlocked.Read(ref _handOverBacklog);

    /// <summary>
    /// Completes once the event is durable (logged, or staged for its log to take moments later); throws when it
    /// could not be made durable.
    /// </summary>
    public Task AppendAsync(string tenant, AuditEvent auditEvent)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        var pipeline = _tenants.GetOrAdd(tenant, static t => new TenantPipeline(t));

        // As stored: PostgreSQL's text cannot hold a NUL character, and the log keeps microseconds.
        return pipeline.Writes.AddAsync(AuditLeaf.Normalize(auditEvent), events => WriteAsync(pipeline, events));
    }

    private async Task WriteAsync(TenantPipeline pipeline, List<AuditEvent> events)
    {
        // Only this tenant's single sender touches its average.
        pipeline.AverageBatch = (pipeline.AverageBatch * 3 + events.Count) / 4;
        if (pipeline.AverageBatch >= DirectBatch)
        {
            try
            {
                await cluster.GetGrain<IAuditLogGrain>(pipeline.Tenant).AppendBatchAsync(events).WaitAsync(DirectWriteTimeout);
                metrics.Durable("direct", events.Count);
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Perhaps written after all: the log drops a request id it already holds when the staged copy reaches it.
                LogDirectWriteFailed(logger, ex, pipeline.Tenant, events.Count);
                metrics.FellBack(events.Count);
            }
        }

        await StageAsync(pipeline.Tenant, events);
        metrics.Durable("staged", events.Count);
        var max = options.Value.MaxHandOverBacklog;
        foreach (var auditEvent in events)
        {
            if (Interlocked.Increment(ref _handOverBacklog) > max)
            {
                // Durable in the intake already: the sweepers log it; this gateway does not hold it too.
                Interlocked.Decrement(ref _handOverBacklog);
                metrics.Abandoned(1);
                continue;
            }

            _ = pipeline.HandOvers.AddAsync(auditEvent, staged => HandOverAsync(pipeline.Tenant, staged));
        }
    }

    private async Task StageAsync(string tenant, List<AuditEvent> events)
    {
        var rows = events.ConvertAll(auditEvent => (tenant, auditEvent));
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await intake.StageAsync(rows);
                return;
            }
            catch (Exception ex) when (attempt < StageRetryDelays.Length && IsTransient(ex))
            {
                LogStageRetried(logger, ex, tenant, events.Count, attempt + 1);
                await Task.Delay(StageRetryDelays[attempt]);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogStageFailed(logger, ex, tenant, events.Count);
                throw;
            }
        }
    }

    private async Task HandOverAsync(string tenant, List<AuditEvent> events)
    {
        try
        {
            await TryHandOverAsync(tenant, events);
        }
        finally
        {
            Interlocked.Add(ref _handOverBacklog, -events.Count);
        }
    }

    private async Task TryHandOverAsync(string tenant, List<AuditEvent> events)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await cluster.GetGrain<IAuditLogGrain>(tenant).AppendStagedAsync(events);
                return;
            }
            catch (Exception ex) when (attempt < HandOverRetryDelays.Length && ex is not (ArgumentException or OutOfMemoryException))
            {
                LogHandOverRetried(logger, ex, tenant, events.Count, attempt + 1);
                await Task.Delay(HandOverRetryDelays[attempt]);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Still durable in the intake: the sweeper logs it.
                LogHandOverFailed(logger, ex, tenant, events.Count);
                metrics.Abandoned(events.Count);
                return;
            }
        }
    }

    // A connection that broke or a server that is restarting may pass; a rejected statement will not.
    private static bool IsTransient(Exception ex) => ex is NpgsqlException { IsTransient: true } or TimeoutException;

    private sealed class TenantPipeline(string tenant)
    {
        public string Tenant { get; } = tenant;

        public Batcher<AuditEvent> Writes { get; } = new();

        public Batcher<AuditEvent> HandOvers { get; } = new();

        public double AverageBatch { get; set; }
    }

    /// <summary>
    /// Coalesces: while one batch is being sent, the items that arrive queue up and go together in the next one. Each
    /// caller's task completes when the batch that carried its item was sent, or fails with that batch.
    /// </summary>
    private sealed class Batcher<T>
    {
        private readonly List<(T Item, TaskCompletionSource Completion)> _waiting = [];
        private bool _sending;

        public Task AddAsync(T item, Func<List<T>, Task> send)
        {
            var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            bool start;
            lock (_waiting)
            {
                _waiting.Add((item, completion));
                start = !_sending;
                _sending = true;
            }

            if (start)
            {
                _ = SendAllAsync(send);
            }

            return completion.Task;
        }

        private async Task SendAllAsync(Func<List<T>, Task> send)
        {
            while (true)
            {
                List<(T Item, TaskCompletionSource Completion)> batch;
                lock (_waiting)
                {
                    if (_waiting.Count == 0)
                    {
                        _sending = false;
                        return;
                    }

                    var take = Math.Min(_waiting.Count, MaxBatch);
                    batch = _waiting.GetRange(0, take);
                    _waiting.RemoveRange(0, take);
                }

                try
                {
                    await send(batch.ConvertAll(entry => entry.Item));
                    foreach (var entry in batch)
                    {
                        entry.Completion.TrySetResult();
                    }
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    foreach (var entry in batch)
                    {
                        entry.Completion.TrySetException(ex);
                    }
                }
            }
        }
    }

    [LoggerMessage(EventId = 60, EventName = "AuditStageRetried", Level = LogLevel.Warning,
        Message = "Staging {Count} audit events of tenant {TenantId} failed (attempt {Attempt}); retrying")]
    private static partial void LogStageRetried(ILogger logger, Exception exception, string tenantId, int count, int attempt);

    [LoggerMessage(EventId = 61, EventName = "AuditStageFailed", Level = LogLevel.Error,
        Message = "Staging {Count} audit events of tenant {TenantId} failed for good; their responses are withheld")]
    private static partial void LogStageFailed(ILogger logger, Exception exception, string tenantId, int count);

    [LoggerMessage(EventId = 65, EventName = "AuditDirectWriteFailed", Level = LogLevel.Warning,
        Message = "Writing {Count} audit events of tenant {TenantId} to their log failed; staging them instead")]
    private static partial void LogDirectWriteFailed(ILogger logger, Exception exception, string tenantId, int count);

    [LoggerMessage(EventId = 63, EventName = "AuditHandOverRetried", Level = LogLevel.Debug,
        Message = "Handing {Count} staged audit events of tenant {TenantId} to their log failed (attempt {Attempt}); retrying")]
    private static partial void LogHandOverRetried(ILogger logger, Exception exception, string tenantId, int count, int attempt);

    [LoggerMessage(EventId = 64, EventName = "AuditHandOverFailed", Level = LogLevel.Warning,
        Message = "Could not hand {Count} staged audit events of tenant {TenantId} to their log; the intake sweeper will log them")]
    private static partial void LogHandOverFailed(ILogger logger, Exception exception, string tenantId, int count);
}
