namespace Outpost.Grains.AuditLogs;

/// <summary>A tenant's append-only audit log, keyed by tenant id.</summary>
[Alias("outpost.IAuditLogGrain")]
public interface IAuditLogGrain : IGrainWithStringKey
{
    /// <summary>Appends an event; returns it with its sequence number once it is durable.</summary>
    [Alias("AppendAsync")]
    Task<AuditEntry> AppendAsync(AuditEvent auditEvent);

    /// <summary>Reads up to <paramref name="maxCount"/> entries starting at <paramref name="fromSequence"/>.</summary>
    [Alias("ReadAsync")]
    Task<IReadOnlyList<AuditEntry>> ReadAsync(long fromSequence, int maxCount);

    /// <summary>The number of events in the log.</summary>
    [Alias("CountAsync")]
    Task<long> CountAsync();
}
