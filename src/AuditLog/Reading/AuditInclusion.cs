using Outpost.Grains.AuditLogs;

namespace Outpost.AuditLog.Reading;

/// <summary>
/// Everything a client needs to check that one event is in the log: the event, its canonical leaf encoding, the audit
/// path to the root of a tree size, and the signed checkpoint of that size when the caller did not name one.
/// </summary>
public sealed record AuditInclusion(AuditEntry Entry, byte[] Leaf, AuditInclusionProof Proof, AuditCheckpoint? Checkpoint);
