namespace Outpost.Grains.AuditLogs;

/// <summary>
/// Proof that the tenant's log of <see cref="ToSize"/> events extends the log of <see cref="FromSize"/> events without
/// changing any of them (RFC 9162 section 2.1.4), with both roots.
/// </summary>
[GenerateSerializer, Immutable, Alias("outpost.AuditConsistencyProof")]
public sealed record AuditConsistencyProof(
    [property: Id(0)] long FromSize,
    [property: Id(1)] long ToSize,
    [property: Id(2)] byte[] FromRoot,
    [property: Id(3)] byte[] ToRoot,
    [property: Id(4)] IReadOnlyList<byte[]> Path);
