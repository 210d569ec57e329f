using Outpost.Grains.AuditLogs;

namespace Outpost.AuditLog.Verification;

/// <summary>The result of recomputing a tenant's audit log from PostgreSQL and checking it against its checkpoints.</summary>
/// <param name="Tenant">The tenant whose log was checked.</param>
/// <param name="Valid">True when every stored event and every checkpoint agree.</param>
/// <param name="EventsChecked">How many stored events were recomputed.</param>
/// <param name="CheckpointsChecked">How many signed checkpoints were checked (signature and root).</param>
/// <param name="PrunedSize">How many events retention removed from the front of the log.</param>
/// <param name="TreeSize">The size of the log as recomputed.</param>
/// <param name="LatestCheckpoint">The latest checkpoint that was checked.</param>
/// <param name="FirstProblem">The first inconsistency found, or null.</param>
/// <param name="WitnessedChecked">How many witnessed checkpoints (from outside the database) were checked against the log.</param>
/// <param name="StagedEvents">
/// How many of the tenant's events waited in the audit intake, durable but not yet logged, so not yet checked.
/// </param>
public sealed record AuditVerification(
    string Tenant,
    bool Valid,
    long EventsChecked,
    int CheckpointsChecked,
    long PrunedSize,
    long TreeSize,
    AuditCheckpoint? LatestCheckpoint,
    AuditProblem? FirstProblem,
    int WitnessedChecked = 0,
    long StagedEvents = 0);
