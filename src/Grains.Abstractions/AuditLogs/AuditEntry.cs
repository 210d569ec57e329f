namespace Outpost.Grains.AuditLogs;

/// <summary>An event as stored: its position in the tenant's log and the event itself.</summary>
/// <param name="Sequence">Zero-based position in the log (the Merkle leaf index); dense and never reused.</param>
/// <param name="Event">The event.</param>
/// <param name="LeafHash">SHA-256(0x00 || canonical encoding of the event at this position): the Merkle leaf.</param>
[GenerateSerializer, Immutable, Alias("outpost.AuditEntry")]
public sealed record AuditEntry(
    [property: Id(0)] long Sequence,
    [property: Id(1)] AuditEvent Event,
    [property: Id(2)] byte[]? LeafHash = null);
