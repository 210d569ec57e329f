namespace Outpost.Grains.TaskRuns;

/// <summary>Where a task run is in its life.</summary>
public enum TaskRunStatus
{
    /// <summary>No run exists under this key.</summary>
    None = 0,

    /// <summary>Created, waiting for a human to approve it.</summary>
    AwaitingApproval = 1,

    /// <summary>Approved (or needing no approval), waiting for a device.</summary>
    Queued = 2,

    /// <summary>Running on a device.</summary>
    Running = 3,

    /// <summary>Finished with exit code zero.</summary>
    Succeeded = 4,

    /// <summary>Finished with an error or a non-zero exit code.</summary>
    Failed = 5,

    /// <summary>Stopped by its requester before it finished.</summary>
    Cancelled = 6,

    /// <summary>Refused at the approval gate.</summary>
    Rejected = 7,
}
