namespace Outpost.Grains.TaskRuns;

/// <summary>Who must approve a run before it may start.</summary>
public enum TaskApproval
{
    /// <summary>Nobody: policy lets it run.</summary>
    None = 0,

    /// <summary>Any member of the tenant allowed to decide approvals, other than the requester.</summary>
    Human = 1,

    /// <summary>A tenant admin, other than the requester.</summary>
    TenantAdmin = 2,
}
