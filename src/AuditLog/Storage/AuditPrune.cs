namespace Outpost.AuditLog.Storage;

/// <summary>
/// A recorded prune: the events before <see cref="TreeSize"/> are gone; <see cref="CompactRange"/> stands in for them.
/// <see cref="KeyId"/> and <see cref="Signature"/> are the audit key's signature over it (null for a prune recorded
/// before signatures); <see cref="Legacy"/> says it is exactly as migration 0010 found it then.
/// </summary>
public sealed record AuditPrune(
    long TreeSize, IReadOnlyList<byte[]> CompactRange, DateTimeOffset PrunedAt, string? KeyId = null, byte[]? Signature = null, bool Legacy = false);
