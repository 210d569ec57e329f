using Outpost.AuditLog.Verification;

namespace Outpost.Gateway.Contracts;

/// <summary>The result of recomputing a tenant's audit log from the database; <see cref="FirstProblem"/> names the first bad event.</summary>
public sealed record AuditVerificationResponse(
    string Tenant,
    bool Valid,
    long EventsChecked,
    int CheckpointsChecked,
    long PrunedSize,
    long TreeSize,
    AuditCheckpointResponse? LatestCheckpoint,
    AuditProblem? FirstProblem,
    long StagedEvents)
{
    public static AuditVerificationResponse From(AuditVerification verification)
    {
        ArgumentNullException.ThrowIfNull(verification);
        return new AuditVerificationResponse(
            verification.Tenant,
            verification.Valid,
            verification.EventsChecked,
            verification.CheckpointsChecked,
            verification.PrunedSize,
            verification.TreeSize,
            verification.LatestCheckpoint is { } latest ? AuditCheckpointResponse.From(latest) : null,
            verification.FirstProblem,
            verification.StagedEvents);
    }
}
