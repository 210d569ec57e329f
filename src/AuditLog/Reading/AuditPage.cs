using Outpost.Grains.AuditLogs;

namespace Outpost.AuditLog.Reading;

/// <summary>One page of a tenant's events, oldest first, and the cursor of the next page (null on the last).</summary>
public sealed record AuditPage(IReadOnlyList<AuditEntry> Entries, string? NextCursor);
