namespace Outpost.Grains.TaskRuns;

/// <summary>One remote execution: its approval gate, its progress and its result. Keyed by run id.</summary>
[Alias("outpost.ITaskRunGrain")]
public interface ITaskRunGrain : IGrainWithStringKey
{
    /// <summary>
    /// Creates the run. Creating it again with the same spec returns the existing run (idempotent); a different spec
    /// throws <see cref="TaskRunStateException"/>.
    /// </summary>
    [Alias("CreateAsync")]
    Task<TaskRunSnapshot> CreateAsync(TaskRunSpec spec);

    /// <summary>The run as it stands; <see cref="TaskRunStatus.None"/> when it was never created.</summary>
    [Alias("GetAsync")]
    Task<TaskRunSnapshot> GetAsync();

    /// <summary>Records a human's decision at the approval gate.</summary>
    [Alias("DecideAsync")]
    Task<TaskRunSnapshot> DecideAsync(bool approved, string decidedBy);

    /// <summary>Cancels a run that has not finished.</summary>
    [Alias("CancelAsync")]
    Task<TaskRunSnapshot> CancelAsync(string reason);
}
