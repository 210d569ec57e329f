namespace Outpost.Gateway.Contracts;

/// <summary>
/// Proof that an event is in the log: <see cref="Leaf"/> is the event's canonical encoding (base64), whose SHA-256 after
/// a 0x00 byte is <see cref="LeafHash"/>; <see cref="AuditPath"/> (RFC 9162 section 2.1.3) leads from it to
/// <see cref="RootHash"/>, the root the <see cref="Checkpoint"/> signs.
/// </summary>
public sealed record AuditInclusionProofResponse(
    string RequestId,
    long LeafIndex,
    long TreeSize,
    string Leaf,
    string LeafHash,
    IReadOnlyList<string> AuditPath,
    string RootHash,
    AuditCheckpointResponse? Checkpoint);
