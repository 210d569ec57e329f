namespace Outpost.Grains.AuditLogs;

/// <summary>
/// A tenant's tamper-evident audit log, keyed by tenant id: an append-only table in PostgreSQL and, in memory, the
/// Merkle tree over it. Appends from concurrent callers are written together in one batch; each is acknowledged only
/// once it is durable.
/// </summary>
[Alias("outpost.IAuditLogGrain")]
public interface IAuditLogGrain : IGrainWithStringKey
{
    /// <summary>Appends an event; returns it with its sequence number once it is durable.</summary>
    [Alias("AppendAsync")]
    Task<AuditEntry> AppendAsync(AuditEvent auditEvent);

    /// <summary>
    /// Appends events in order and returns their sequence numbers once all are durable. An event whose request id is
    /// already in the log (a retried append) is not written again: its existing sequence number is returned.
    /// </summary>
    [Alias("AppendBatchAsync")]
    Task<IReadOnlyList<long>> AppendBatchAsync(IReadOnlyList<AuditEvent> auditEvents);

    /// <summary>
    /// Logs events a gateway has already made durable in the audit intake, and removes them from the intake in the
    /// same transaction; completes once they are logged. An event already logged is not logged again.
    /// </summary>
    [Alias("AppendStagedAsync")]
    Task AppendStagedAsync(IReadOnlyList<AuditEvent> auditEvents);

    /// <summary>
    /// Logs every event of this tenant still waiting in the audit intake (left by a gateway whose hand-over failed);
    /// returns how many it logged. Called before the log is read, so that a read sees every answered request.
    /// </summary>
    [Alias("IngestStagedAsync")]
    Task<int> IngestStagedAsync();

    /// <summary>Reads up to <paramref name="maxCount"/> entries starting at <paramref name="fromSequence"/>.</summary>
    [Alias("ReadAsync")]
    Task<IReadOnlyList<AuditEntry>> ReadAsync(long fromSequence, int maxCount);

    /// <summary>The number of events in the log (including pruned ones).</summary>
    [Alias("CountAsync")]
    Task<long> CountAsync();

    /// <summary>Signs a checkpoint of the log as it is now (or returns the one already signed for this size).</summary>
    [Alias("SignCheckpointAsync")]
    Task<AuditCheckpoint> SignCheckpointAsync();

    /// <summary>The latest signed checkpoint, or null when none was signed yet.</summary>
    [Alias("GetLatestCheckpointAsync")]
    Task<AuditCheckpoint?> GetLatestCheckpointAsync();

    /// <summary>Proves the event at <paramref name="leafIndex"/> is in the log of <paramref name="treeSize"/> events.</summary>
    [Alias("GetInclusionProofAsync")]
    Task<AuditInclusionProof> GetInclusionProofAsync(long leafIndex, long treeSize);

    /// <summary>Proves the log of <paramref name="toSize"/> events extends the one of <paramref name="fromSize"/>.</summary>
    [Alias("GetConsistencyProofAsync")]
    Task<AuditConsistencyProof> GetConsistencyProofAsync(long fromSize, long toSize);

    /// <summary>
    /// The leaf hashes the grain holds for positions <paramref name="fromSequence"/> onwards (at most 1000): what it
    /// wrote, for verification to compare the stored rows against. Empty when the grain's own copy cannot be trusted
    /// (it was reloaded from rows that no longer match the signed history).
    /// </summary>
    [Alias("GetLeafHashesAsync")]
    Task<IReadOnlyList<byte[]>> GetLeafHashesAsync(long fromSequence, int maxCount);

    /// <summary>
    /// Removes the events older than the tenant's retention period, only as a whole signed segment: up to the latest
    /// checkpoint all of whose events are expired. Returns the number of events now pruned in total.
    /// </summary>
    [Alias("PruneExpiredAsync")]
    Task<long> PruneExpiredAsync();
}
