namespace Outpost.Grains.TaskRuns;

/// <summary>A human's decision at a run's approval gate.</summary>
/// <param name="Approved">True to let it run.</param>
/// <param name="DecidedBy">The subject deciding (a user, or a tenant admin signed in to the approval page).</param>
/// <param name="Tenant">The decider's tenant; must be the run's.</param>
/// <param name="AsTenantAdmin">True when the decider is a tenant admin.</param>
/// <param name="Reason">Why, in the decider's words.</param>
/// <param name="RequestId">The request that carried the decision, for the audit log.</param>
[GenerateSerializer, Immutable, Alias("outpost.TaskDecision")]
public sealed record TaskDecision(
    [property: Id(0)] bool Approved,
    [property: Id(1)] string DecidedBy,
    [property: Id(2)] string Tenant,
    [property: Id(3)] bool AsTenantAdmin,
    [property: Id(4)] string Reason,
    [property: Id(5)] string RequestId);
