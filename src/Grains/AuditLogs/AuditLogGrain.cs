using Outpost.Grains.Placement;

namespace Outpost.Grains.AuditLogs;

/// <summary>
/// A tenant's audit log. An append is acknowledged only after the write to PostgreSQL succeeds; a failed write
/// removes the entry again, so memory never claims more than storage holds.
/// </summary>
[ControlPlane]
public sealed class AuditLogGrain(
    [PersistentState(StateNames.AuditLog, StorageNames.Default)] IPersistentState<AuditLogState> state) : Grain, IAuditLogGrain
{
    /// <summary>The most entries one read returns.</summary>
    public const int MaxReadCount = 1000;

    public async Task<AuditEntry> AppendAsync(AuditEvent auditEvent)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        var entries = state.State.Entries;
        var entry = new AuditEntry(entries.Count, auditEvent);
        entries.Add(entry);
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            entries.RemoveAt(entries.Count - 1);
            throw;
        }

        return entry;
    }

    public Task<IReadOnlyList<AuditEntry>> ReadAsync(long fromSequence, int maxCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fromSequence);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxCount);
        var entries = state.State.Entries;
        var start = (int)Math.Min(fromSequence, entries.Count);
        var count = Math.Min(Math.Min(maxCount, MaxReadCount), entries.Count - start);
        IReadOnlyList<AuditEntry> page = entries.GetRange(start, count);
        return Task.FromResult(page);
    }

    public Task<long> CountAsync() => Task.FromResult((long)state.State.Entries.Count);
}
