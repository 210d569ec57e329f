namespace Outpost.AuditLog.Storage;

/// <summary>A recorded prune: the events before <see cref="TreeSize"/> are gone; <see cref="CompactRange"/> stands in for them.</summary>
public sealed record AuditPrune(long TreeSize, IReadOnlyList<byte[]> CompactRange, DateTimeOffset PrunedAt);
