namespace Outpost.Grains.AuditLogs;

/// <summary>
/// Proof that the event at <see cref="LeafIndex"/> is in the tenant's log of <see cref="TreeSize"/> events: the RFC 9162
/// audit path, from the leaf's sibling up to the root's child.
/// </summary>
[GenerateSerializer, Immutable, Alias("outpost.AuditInclusionProof")]
public sealed record AuditInclusionProof(
    [property: Id(0)] long LeafIndex,
    [property: Id(1)] long TreeSize,
    [property: Id(2)] byte[] LeafHash,
    [property: Id(3)] IReadOnlyList<byte[]> Path,
    [property: Id(4)] byte[] RootHash);
