namespace Outpost.AuditLog.Verification;

/// <summary>What verification found wrong, and where.</summary>
/// <param name="Kind">What is wrong.</param>
/// <param name="Sequence">The position of the first bad event, when the problem is in an event.</param>
/// <param name="RequestId">That event's request id, when a row is there to name it.</param>
/// <param name="CheckpointSize">The checkpoint involved, when one is.</param>
/// <param name="Detail">What is wrong, in words.</param>
public sealed record AuditProblem(AuditProblemKind Kind, long? Sequence, string? RequestId, long? CheckpointSize, string Detail);
