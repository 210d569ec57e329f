namespace Outpost.AuditLog.Storage;

/// <summary>
/// A filter over one tenant's audit events: a time range (<see cref="From"/> inclusive, <see cref="To"/> exclusive),
/// exact matches on the other members, and <see cref="AfterSequence"/> as the pagination cursor. Null members match
/// everything.
/// </summary>
public sealed record AuditQuery(
    DateTimeOffset? From = null,
    DateTimeOffset? To = null,
    string? Subject = null,
    string? ClientId = null,
    string? Action = null,
    string? Decision = null,
    string? Device = null,
    string? RequestId = null,
    long? AfterSequence = null);
