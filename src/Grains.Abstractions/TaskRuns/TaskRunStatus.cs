namespace Outpost.Grains.TaskRuns;

/// <summary>
/// Where a task run is in its life: <c>Requested -> AwaitingApproval -> Queued -> Running</c>, then one of the terminal
/// states. Values are stored: never renumber them.
/// </summary>
public enum TaskRunStatus
{
    /// <summary>No run exists under this key.</summary>
    None = 0,

    /// <summary>Created, waiting for a human to approve it.</summary>
    AwaitingApproval = 1,

    /// <summary>Approved (or needing no approval), waiting for a device to start it.</summary>
    Queued = 2,

    /// <summary>Running on a device.</summary>
    Running = 3,

    /// <summary>Finished with exit code zero and a verified result.</summary>
    Succeeded = 4,

    /// <summary>Finished with a non-zero exit code, a refused manifest, a lost device or a result that did not verify.</summary>
    Failed = 5,

    /// <summary>Stopped on request before it finished.</summary>
    Cancelled = 6,

    /// <summary>Refused at the approval gate, or by policy.</summary>
    Rejected = 7,

    /// <summary>Killed at its wall-time limit, or its device never reported within it.</summary>
    TimedOut = 8,

    /// <summary>Its approval or its place in the queue ran out before it started.</summary>
    Expired = 9,

    /// <summary>Accepted by the control plane, not yet past policy (momentary).</summary>
    Requested = 10,
}
