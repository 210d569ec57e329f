using System.Collections.Concurrent;
using Outpost.Grains.AuditLogs;

namespace Outpost.Gateway.AuditLogs;

/// <summary>
/// Sends audit events to their tenants' AuditLog grains, coalescing: while one call for a tenant is in flight, the
/// events that arrive queue up and go together in the next call, so a busy gateway makes few grain calls and the
/// grain's group commit sees large batches. A failed call is retried (the grain drops a request id it already logged),
/// so an event survives its grain moving to another silo.
/// </summary>
public sealed partial class AuditWriter(IClusterClient cluster, ILogger<AuditWriter> logger)
{
    /// <summary>The most events in one grain call.</summary>
    public const int MaxBatch = 1024;

    private static readonly TimeSpan[] RetryDelays =
    [
        TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(500),
        TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5),
    ];

    private readonly ConcurrentDictionary<string, TenantQueue> _queues = new(StringComparer.Ordinal);

    /// <summary>Completes once the event is durable; throws when it could not be made durable.</summary>
    public Task<long> AppendAsync(string tenant, AuditEvent auditEvent)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        var queue = _queues.GetOrAdd(tenant, static t => new TenantQueue(t));
        var completion = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool start;
        lock (queue)
        {
            queue.Waiting.Add((auditEvent, completion));
            start = !queue.Sending;
            queue.Sending = true;
        }

        if (start)
        {
            _ = SendAsync(queue);
        }

        return completion.Task;
    }

    private async Task SendAsync(TenantQueue queue)
    {
        while (true)
        {
            List<(AuditEvent Event, TaskCompletionSource<long> Completion)> batch;
            lock (queue)
            {
                if (queue.Waiting.Count == 0)
                {
                    queue.Sending = false;
                    return;
                }

                var take = Math.Min(queue.Waiting.Count, MaxBatch);
                batch = queue.Waiting.GetRange(0, take);
                queue.Waiting.RemoveRange(0, take);
            }

            try
            {
                var sequences = await AppendWithRetriesAsync(queue.Tenant, batch.ConvertAll(item => item.Event));
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Completion.TrySetResult(sequences[i]);
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogAuditWriteFailed(logger, ex, queue.Tenant, batch.Count);
                foreach (var item in batch)
                {
                    item.Completion.TrySetException(ex);
                }
            }
        }
    }

    private async Task<IReadOnlyList<long>> AppendWithRetriesAsync(string tenant, List<AuditEvent> events)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await cluster.GetGrain<IAuditLogGrain>(tenant).AppendBatchAsync(events);
            }
            catch (Exception ex) when (attempt < RetryDelays.Length && IsTransient(ex))
            {
                LogAuditWriteRetried(logger, ex, tenant, events.Count, attempt + 1);
                await Task.Delay(RetryDelays[attempt]);
            }
        }
    }

    // Anything but a caller mistake may pass: the silo died, the grain moved, the database blinked.
    private static bool IsTransient(Exception ex) => ex is not (ArgumentException or AuditIntegrityException);

    private sealed class TenantQueue(string tenant)
    {
        public string Tenant { get; } = tenant;

        public List<(AuditEvent Event, TaskCompletionSource<long> Completion)> Waiting { get; } = [];

        public bool Sending { get; set; }
    }

    [LoggerMessage(EventId = 60, EventName = "AuditWriteRetried", Level = LogLevel.Warning,
        Message = "Writing {Count} audit events of tenant {TenantId} failed (attempt {Attempt}); retrying")]
    private static partial void LogAuditWriteRetried(ILogger logger, Exception exception, string tenantId, int count, int attempt);

    [LoggerMessage(EventId = 61, EventName = "AuditWriteFailed", Level = LogLevel.Error,
        Message = "Writing {Count} audit events of tenant {TenantId} failed for good; their responses are withheld")]
    private static partial void LogAuditWriteFailed(ILogger logger, Exception exception, string tenantId, int count);
}
