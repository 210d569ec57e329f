using Orleans.Concurrency;

namespace Outpost.Grains.TaskRuns;

/// <summary>
/// One remote execution, keyed by run id: its approval gate, its dispatch to a device with a signed manifest, its log,
/// its outputs and its verified result. Every transition is persisted and audited in the tenant's log.
/// </summary>
[Alias("outpost.ITaskRunGrain")]
public interface ITaskRunGrain : IGrainWithStringKey
{
    /// <summary>
    /// Creates the run (idempotent: the same spec again returns the existing run; a different one throws
    /// <see cref="TaskRunStateException"/>) and, when no approval is needed, queues and dispatches it.
    /// </summary>
    [Alias("CreateAsync")]
    Task<TaskRunSnapshot> CreateAsync(TaskRunSpec spec, string requestId);

    /// <summary>The run as it stands; <see cref="TaskRunStatus.None"/> when it was never created.</summary>
    [Alias("GetAsync"), AlwaysInterleave]
    Task<TaskRunSnapshot> GetAsync();

    /// <summary>Records a human's decision at the approval gate; refuses the requester and the wrong kind of approver.</summary>
    [Alias("DecideAsync")]
    Task<TaskRunSnapshot> DecideAsync(TaskDecision decision);

    /// <summary>Cancels a run that has not ended; a running task's process tree is killed on its device.</summary>
    [Alias("CancelAsync")]
    Task<TaskRunSnapshot> CancelAsync(string cancelledBy, string reason, string requestId);

    /// <summary>
    /// Reads the log from <paramref name="offset"/>; when nothing is there yet and the run has not ended, waits up to
    /// <paramref name="wait"/> for more.
    /// </summary>
    [Alias("ReadLogAsync"), AlwaysInterleave]
    Task<TaskLogChunk> ReadLogAsync(long offset, int maxBytes, TimeSpan wait);

    /// <summary>The signed manifest and result of a dispatched run; null before it was dispatched.</summary>
    [Alias("GetAttestationAsync"), AlwaysInterleave]
    Task<TaskAttestation?> GetAttestationAsync();
}
