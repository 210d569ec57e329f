using System.Collections.Concurrent;
using Npgsql;
using Outpost.Grains.AuditLogs;

namespace Outpost.Gateway.AuditLogs;

/// <summary>
/// Makes each request's audit event durable before its response goes out, with one round trip to PostgreSQL: events
/// are staged in the audit intake (<see cref="AuditIntake"/>), all that arrive while a write is in flight together in
/// the next, whatever their tenants. Only then is each event handed to its tenant's AuditLog grain, off the request's
/// path, coalesced per tenant and retried while the grain moves; the grain logs it and takes it out of the intake. If
/// the hand-over fails for good, the event stays staged and a control silo's sweeper logs it.
/// </summary>
public sealed partial class AuditWriter(AuditIntake intake, IClusterClient cluster, ILogger<AuditWriter> logger)
{
    /// <summary>The most events in one intake write or one grain call.</summary>
    public const int MaxBatch = 1024;

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

    private readonly Batcher<(string Tenant, AuditEvent Event)> _staging = new();
    private readonly ConcurrentDictionary<string, Batcher<AuditEvent>> _handOvers = new(StringComparer.Ordinal);

    /// <summary>
    /// Completes once the event is durable (staged; its log takes it moments later); throws when it could not be made
    /// durable.
    /// </summary>
    public Task AppendAsync(string tenant, AuditEvent auditEvent)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);

        // As stored: PostgreSQL's JSON cannot hold a NUL character, and the log keeps microseconds.
        return _staging.AddAsync((tenant, AuditLeaf.Normalize(auditEvent)), StageAsync);
    }

    private async Task StageAsync(List<(string Tenant, AuditEvent Event)> batch)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await intake.StageAsync(batch);
                break;
            }
            catch (Exception ex) when (attempt < StageRetryDelays.Length && IsTransient(ex))
            {
                LogStageRetried(logger, ex, batch.Count, attempt + 1);
                await Task.Delay(StageRetryDelays[attempt]);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogStageFailed(logger, ex, batch.Count);
                throw;
            }
        }

        foreach (var group in batch.GroupBy(item => item.Tenant, StringComparer.Ordinal))
        {
            var handOver = _handOvers.GetOrAdd(group.Key, static _ => new Batcher<AuditEvent>());
            foreach (var (tenant, auditEvent) in group)
            {
                _ = handOver.AddAsync(auditEvent, events => HandOverAsync(tenant, events));
            }
        }
    }

    private async Task HandOverAsync(string tenant, List<AuditEvent> events)
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
                return;
            }
        }
    }

    // A connection that broke or a server that is restarting may pass; a rejected statement will not.
    private static bool IsTransient(Exception ex) => ex is NpgsqlException { IsTransient: true } or TimeoutException;

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
        Message = "Staging {Count} audit events failed (attempt {Attempt}); retrying")]
    private static partial void LogStageRetried(ILogger logger, Exception exception, int count, int attempt);

    [LoggerMessage(EventId = 61, EventName = "AuditStageFailed", Level = LogLevel.Error,
        Message = "Staging {Count} audit events failed for good; their responses are withheld")]
    private static partial void LogStageFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 63, EventName = "AuditHandOverRetried", Level = LogLevel.Debug,
        Message = "Handing {Count} staged audit events of tenant {TenantId} to their log failed (attempt {Attempt}); retrying")]
    private static partial void LogHandOverRetried(ILogger logger, Exception exception, string tenantId, int count, int attempt);

    [LoggerMessage(EventId = 64, EventName = "AuditHandOverFailed", Level = LogLevel.Warning,
        Message = "Could not hand {Count} staged audit events of tenant {TenantId} to their log; the intake sweeper will log them")]
    private static partial void LogHandOverFailed(ILogger logger, Exception exception, string tenantId, int count);
}
