using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Concurrency;
using Outpost.AuditLog.Merkle;
using Outpost.AuditLog.Signing;
using Outpost.AuditLog.Storage;
using Outpost.Grains.Placement;

namespace Outpost.Grains.AuditLogs;

/// <summary>
/// A tenant's audit log: the rows in <c>outpost_audit_events</c> and, in memory, the Merkle tree over them.
/// <para>
/// Appends are group-committed: calls interleave (the grain is reentrant), each adds its events to a queue, and one
/// flush at a time takes everything queued, gives it the next positions, writes it with one COPY and only then adds it
/// to the tree and acknowledges it. Every turn runs on the activation's scheduler, so the queue and the tree need no
/// locks; the single flush keeps positions dense.
/// </para>
/// <para>
/// Gateways do not wait for this grain: they stage each event in the intake (<see cref="AuditIntake"/>), answer, and
/// then hand the event here, where it is logged like any other and leaves the intake in the same transaction. Whatever
/// a crash leaves in the intake is logged on the next activation, by the control silo's sweeper, or before any read of
/// the log (<see cref="IngestStagedAsync"/>).
/// </para>
/// <para>
/// On activation the tree is rebuilt from the stored leaf hashes and checked against the latest checkpoint; if they
/// disagree the grain keeps logging but refuses to sign, so that it never vouches for a changed history.
/// </para>
/// </summary>
[ControlPlane, Reentrant]
public sealed partial class AuditLogGrain(
    AuditStore store,
    AuditIntake intake,
    AuditSigner signer,
    AuditWitness witness,
    IOptions<AuditLogOptions> options,
    TimeProvider time,
    ILogger<AuditLogGrain> logger) : Grain, IAuditLogGrain, IRemindable
{
    /// <summary>The most entries one read returns.</summary>
    public const int MaxReadCount = 1000;

    /// <summary>The reminder that prunes expired segments while the log is idle.</summary>
    public const string RetentionReminderName = "audit-retention";

    private readonly AuditStore _store = store;
    private readonly AuditIntake _intake = intake;
    private readonly AuditLogOptions _options = options.Value;

    private readonly Dictionary<string, long> _recent = new(StringComparer.Ordinal);
    private readonly Queue<(string RequestId, DateTimeOffset At)> _recentOrder = new();
    private readonly Dictionary<string, Pending> _pendingById = new(StringComparer.Ordinal);
    private List<Pending> _pending = [];
    private Task? _flushing;

    private MerkleTree _tree = new();
    private AuditCheckpoint? _latest;
    private string? _integrityProblem;

    private string Tenant => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await LoadAsync(cancellationToken);
        this.RegisterGrainTimer(
            SignIfGrownAsync,
            new GrainTimerCreationOptions(_options.CheckpointInterval, _options.CheckpointInterval) { Interleave = true, KeepAlive = false });

        // Events a gateway staged while no activation was there to take them (a silo died, the grain moved).
        this.RegisterGrainTimer(
            async _ => await IngestStagedAsync(),
            new GrainTimerCreationOptions(TimeSpan.Zero, Timeout.InfiniteTimeSpan) { Interleave = true, KeepAlive = false });

        // The unauthenticated log has a retention nobody set (AuditSettings.DefaultFor): start its retention reminder.
        if (Tenant == AuditSettings.UnauthenticatedTenant)
        {
            this.RegisterGrainTimer(
                async _ => await PruneExpiredAsync(),
                new GrainTimerCreationOptions(TimeSpan.FromSeconds(30), Timeout.InfiniteTimeSpan) { Interleave = false, KeepAlive = false });
        }

        await base.OnActivateAsync(cancellationToken);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        try
        {
            if (_flushing is { } flushing)
            {
                await flushing;
            }

            await SignIfGrownAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogDeactivationCheckpointFailed(logger, ex, Tenant);
        }

        await base.OnDeactivateAsync(reason, cancellationToken);
    }

    public async Task<AuditEntry> AppendAsync(AuditEvent auditEvent)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        var normalized = AuditLeaf.Normalize(auditEvent);
        var sequences = await AppendBatchAsync([normalized]);

        // The tree holds the leaf it just wrote (a retried request id's earlier one, when it was logged before).
        return new AuditEntry(sequences[0], normalized, _tree.LeafHash(sequences[0]));
    }

    public Task<IReadOnlyList<long>> AppendBatchAsync(IReadOnlyList<AuditEvent> auditEvents) => EnqueueAsync(auditEvents, staged: false);

    public async Task AppendStagedAsync(IReadOnlyList<AuditEvent> auditEvents) => await EnqueueAsync(auditEvents, staged: true);

    // Every call reads the intake itself, after it was called: a drain already under way may have read it before the
    // caller's events were staged. Two drains that read the same rows share their writes (by request id).
    public async Task<int> IngestStagedAsync()
    {
        var logged = 0;
        while (true)
        {
            var staged = await _intake.ReadAsync(Tenant, _options.MaxBatchSize);
            if (staged.Count == 0)
            {
                return logged;
            }

            // Already logged (a retry staged it again after it was logged): only its intake row is left to remove.
            var known = staged.Where(e => _recent.ContainsKey(e.RequestId)).Select(e => e.RequestId).ToList();
            var removed = known.Count == 0 ? 0 : (await _store.FindLoggedAsync(Tenant, known)).Count;
            var fresh = staged.Where(e => !_recent.ContainsKey(e.RequestId)).ToList();
            if (fresh.Count > 0)
            {
                await EnqueueAsync(fresh, staged: true);
                logged += fresh.Count;
            }

            // A short read was the last; a full one that changed nothing would be read again forever.
            if (staged.Count < _options.MaxBatchSize || (fresh.Count == 0 && removed == 0))
            {
                return logged;
            }
        }
    }

    private Task<IReadOnlyList<long>> EnqueueAsync(IReadOnlyList<AuditEvent> auditEvents, bool staged)
    {
        ArgumentNullException.ThrowIfNull(auditEvents);
        var waits = new Task<long>[auditEvents.Count];
        for (var i = 0; i < auditEvents.Count; i++)
        {
            var auditEvent = auditEvents[i] ?? throw new ArgumentException("An audit event is null.", nameof(auditEvents));
            if (string.IsNullOrEmpty(auditEvent.RequestId))
            {
                throw new ArgumentException("An audit event has no request id.", nameof(auditEvents));
            }

            if (_recent.TryGetValue(auditEvent.RequestId, out var existing))
            {
                waits[i] = Task.FromResult(existing);
            }
            else if (_pendingById.TryGetValue(auditEvent.RequestId, out var queued))
            {
                queued.Staged |= staged;
                waits[i] = queued.Completion.Task;
            }
            else
            {
                var pending = new Pending(AuditLeaf.Normalize(auditEvent)) { Staged = staged };
                _pending.Add(pending);
                _pendingById.Add(auditEvent.RequestId, pending);
                waits[i] = pending.Completion.Task;
            }
        }

        if (_flushing is null)
        {
            var flushing = FlushAsync();
            _flushing = flushing.IsCompleted ? null : flushing;
        }

        return WaitAllAsync(waits);
    }

    public async Task<IReadOnlyList<AuditEntry>> ReadAsync(long fromSequence, int maxCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fromSequence);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxCount);
        var query = new AuditQuery(AfterSequence: fromSequence - 1);
        return await _store.QueryAsync(Tenant, query, Math.Min(maxCount, MaxReadCount));
    }

    public Task<long> CountAsync() => Task.FromResult(_tree.Size);

    public async Task<AuditCheckpoint> SignCheckpointAsync()
    {
        if (_integrityProblem is { } problem)
        {
            throw new AuditIntegrityException(problem);
        }

        var size = _tree.Size;
        if (_latest is { } latest && latest.TreeSize == size)
        {
            return latest;
        }

        var checkpoint = await signer.SignAsync(Tenant, size, _tree.RootHash(size));
        checkpoint = await _store.AddCheckpointAsync(checkpoint);
        if (_latest is null || checkpoint.TreeSize > _latest.TreeSize)
        {
            _latest = checkpoint;
        }

        LogCheckpointSigned(logger, Tenant, checkpoint.TreeSize, checkpoint.KeyId);
        await witness.PublishAsync(checkpoint);
        return checkpoint;
    }

    public Task<AuditCheckpoint?> GetLatestCheckpointAsync() => Task.FromResult(_latest);

    public Task<AuditInclusionProof> GetInclusionProofAsync(long leafIndex, long treeSize)
    {
        if (treeSize < 1 || treeSize > _tree.Size)
        {
            throw new ArgumentOutOfRangeException(nameof(treeSize), treeSize, $"The tree size must be from 1 to {_tree.Size}, the log's size.");
        }

        if (leafIndex < _tree.PrunedSize || leafIndex >= treeSize)
        {
            throw new ArgumentOutOfRangeException(
                nameof(leafIndex), leafIndex, $"The event must be from {_tree.PrunedSize} (the first one kept) to {treeSize - 1}.");
        }

        return Task.FromResult(new AuditInclusionProof(
            leafIndex, treeSize, _tree.LeafHash(leafIndex), _tree.InclusionProof(leafIndex, treeSize), _tree.RootHash(treeSize)));
    }

    public Task<AuditConsistencyProof> GetConsistencyProofAsync(long fromSize, long toSize)
    {
        var minimum = Math.Max(1, _tree.PrunedSize);
        if (toSize < minimum || toSize > _tree.Size)
        {
            throw new ArgumentOutOfRangeException(nameof(toSize), toSize, $"The second size must be from {minimum} to {_tree.Size}, the log's size.");
        }

        if (fromSize < minimum || fromSize > toSize)
        {
            throw new ArgumentOutOfRangeException(nameof(fromSize), fromSize, $"The first size must be from {minimum} to {toSize}.");
        }

        return Task.FromResult(new AuditConsistencyProof(
            fromSize, toSize, _tree.RootHash(fromSize), _tree.RootHash(toSize), _tree.ConsistencyProof(fromSize, toSize)));
    }

    public Task<IReadOnlyList<byte[]>> GetLeafHashesAsync(long fromSequence, int maxCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxCount);
        var hashes = new List<byte[]>();
        if (_integrityProblem is null)
        {
            var end = Math.Min(_tree.Size, fromSequence + Math.Min(maxCount, MaxReadCount));
            for (var i = Math.Max(fromSequence, _tree.PrunedSize); i < end; i++)
            {
                hashes.Add(_tree.LeafHash(i));
            }
        }

        return Task.FromResult<IReadOnlyList<byte[]>>(hashes);
    }

    public async Task<long> PruneExpiredAsync()
    {
        var settings = await _store.GetSettingsAsync(Tenant);
        if (settings.RetentionDays is not { } days)
        {
            return _tree.PrunedSize;
        }

        await this.RegisterOrUpdateReminder(RetentionReminderName, _options.RetentionCheckInterval, _options.RetentionCheckInterval);
        var cutoff = time.GetUtcNow() - TimeSpan.FromDays(days);

        // The newest signed segment end whose last event has expired; events are logged in time order.
        var checkpoints = await _store.ReadCheckpointsAsync(Tenant, _tree.PrunedSize + 1, _tree.Size);
        long boundary = 0;
        for (var i = checkpoints.Count - 1; i >= 0; i--)
        {
            var size = checkpoints[i].TreeSize;
            if (await _store.EventTimeAsync(Tenant, size - 1) is { } last && last < cutoff)
            {
                boundary = size;
                break;
            }
        }

        if (boundary <= _tree.PrunedSize)
        {
            return _tree.PrunedSize;
        }

        var range = _tree.CompactRange(boundary);
        var (keyId, signature) = await signer.SignPruneAsync(Tenant, boundary, range);
        await _store.PruneAsync(Tenant, boundary, range, keyId, signature);

        // Rebuild without the pruned leaves; no await in between, so no append interleaves.
        var pruned = MerkleTree.FromPrunedPrefix(boundary, range);
        for (var i = boundary; i < _tree.Size; i++)
        {
            pruned.Append(_tree.LeafHash(i));
        }

        _tree = pruned;
        LogPruned(logger, Tenant, boundary, days);
        return boundary;
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == RetentionReminderName)
        {
            await PruneExpiredAsync();
        }
    }

    private static async Task<IReadOnlyList<long>> WaitAllAsync(Task<long>[] waits) => await Task.WhenAll(waits);

    private async Task FlushAsync()
    {
        try
        {
            while (_pending.Count > 0)
            {
                var take = Math.Min(_pending.Count, _options.MaxBatchSize);
                var batch = _pending.GetRange(0, take);
                _pending = _pending.Count == take ? [] : _pending.GetRange(take, _pending.Count - take);
                await WriteBatchAsync(batch, retryAfterReload: true);
            }
        }
        finally
        {
            _flushing = null;
        }
    }

    private async Task WriteBatchAsync(List<Pending> batch, bool retryAfterReload)
    {
        var entries = new List<AuditEntry>(batch.Count);
        var first = _tree.Size;
        for (var i = 0; i < batch.Count; i++)
        {
            var sequence = first + i;
            var auditEvent = batch[i].Event;
            entries.Add(new AuditEntry(sequence, auditEvent, AuditLeaf.Hash(Tenant, sequence, auditEvent)));
        }

        try
        {
            var staged = batch.Where(p => p.Staged).Select(p => p.Event.RequestId).ToList();
            await _store.AppendAsync(Tenant, entries, staged);
        }
        catch (PostgresException ex) when (retryAfterReload && ex.SqlState is PostgresErrorCodes.UniqueViolation)
        {
            // Another activation (this grain on a silo declared dead, still writing) or a retried append got there
            // first: reload what is stored, then write only what is still missing, at the positions after it.
            LogReloadingAfterConflict(logger, Tenant, ex.ConstraintName);
            await LoadAsync(CancellationToken.None);
            var logged = await _store.FindLoggedAsync(Tenant, batch.ConvertAll(p => p.Event.RequestId));
            var missing = new List<Pending>();
            foreach (var pending in batch)
            {
                if (logged.TryGetValue(pending.Event.RequestId, out var stored))
                {
                    Remember(pending.Event.RequestId, stored, time.GetUtcNow());
                    Complete(pending, stored);
                }
                else
                {
                    missing.Add(pending);
                }
            }

            if (missing.Count > 0)
            {
                await WriteBatchAsync(missing, retryAfterReload: false);
            }

            return;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogAppendFailed(logger, ex, Tenant, batch.Count);

            // Callers get an exception they can deserialize, without the database's internals.
            var failure = new AuditWriteException(
                $"Writing {batch.Count} audit events of tenant '{Tenant}' failed: {(ex is PostgresException pg ? pg.MessageText : ex.GetType().Name)}.");
            foreach (var pending in batch)
            {
                _pendingById.Remove(pending.Event.RequestId);
                pending.Completion.TrySetException(failure);
            }

            return;
        }

        foreach (var entry in entries)
        {
            _tree.Append(entry.LeafHash!);
        }

        var now = time.GetUtcNow();
        for (var i = 0; i < batch.Count; i++)
        {
            Remember(batch[i].Event.RequestId, entries[i].Sequence, now);
            Complete(batch[i], entries[i].Sequence);
        }

        Forget(now - _options.DeduplicationWindow);
    }

    private void Complete(Pending pending, long sequence)
    {
        _pendingById.Remove(pending.Event.RequestId);
        pending.Completion.TrySetResult(sequence);
    }

    private void Remember(string requestId, long sequence, DateTimeOffset at)
    {
        _recent[requestId] = sequence;
        _recentOrder.Enqueue((requestId, at));
    }

    private void Forget(DateTimeOffset before)
    {
        while (_recentOrder.TryPeek(out var oldest) && oldest.At < before)
        {
            _recentOrder.Dequeue();
            _recent.Remove(oldest.RequestId);
        }
    }

    /// <summary>Rebuilds the tree from storage and checks it against the latest checkpoint.</summary>
    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var prune = await _store.LatestPruneAsync(Tenant, cancellationToken);
        var tree = prune is null ? new MerkleTree() : MerkleTree.FromPrunedPrefix(prune.TreeSize, prune.CompactRange);
        string? problem = null;
        await foreach (var (sequence, leafHash) in _store.ReadLeavesAsync(Tenant, tree.Size, cancellationToken))
        {
            if (sequence != tree.Size)
            {
                problem ??= $"event {tree.Size} is missing from the stored log (the next stored event is {sequence})";
                while (tree.Size < sequence)
                {
                    // Keep positions aligned with storage so new events never reuse a stored position.
                    tree.Append(new byte[MerkleHash.Size]);
                }
            }

            tree.Append(leafHash);
        }

        _latest = await _store.LatestCheckpointAsync(Tenant, cancellationToken);
        if (_latest is { } latest && problem is null)
        {
            if (latest.TreeSize > tree.Size)
            {
                problem = $"the latest checkpoint covers {latest.TreeSize} events but only {tree.Size} are stored";
            }
            else if (latest.TreeSize >= tree.PrunedSize
                && !System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(tree.RootHash(latest.TreeSize), latest.RootHash))
            {
                problem = $"the stored events no longer hash to the root signed at size {latest.TreeSize}";
            }
        }

        _tree = tree;
        _integrityProblem = problem is null ? null : $"The audit log of tenant '{Tenant}' does not match its signed history: {problem}. Run verification to find the first changed event.";
        if (_integrityProblem is not null)
        {
            LogIntegrityProblem(logger, Tenant, _integrityProblem);
        }

        var since = time.GetUtcNow() - _options.DeduplicationWindow;
        _recent.Clear();
        _recentOrder.Clear();
        foreach (var (requestId, sequence) in await _store.RecentRequestIdsAsync(Tenant, since, cancellationToken))
        {
            Remember(requestId, sequence, time.GetUtcNow());
        }
    }

    private async Task SignIfGrownAsync(CancellationToken cancellationToken)
    {
        if (_integrityProblem is null && _tree.Size > (_latest?.TreeSize ?? 0))
        {
            await SignCheckpointAsync();
        }
    }

    private sealed class Pending(AuditEvent auditEvent)
    {
        public AuditEvent Event { get; } = auditEvent;

        public TaskCompletionSource<long> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Whether the event waits in the intake, to be removed from there when it is logged.</summary>
        public bool Staged { get; set; }
    }
}
