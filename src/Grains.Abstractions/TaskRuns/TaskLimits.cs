namespace Outpost.Grains.TaskRuns;

/// <summary>The hard caps a task runs under on the device.</summary>
/// <param name="WallSeconds">Wall-clock time before the run is killed and ends <see cref="TaskRunStatus.TimedOut"/>.</param>
/// <param name="CpuSeconds">CPU time (RLIMIT_CPU).</param>
/// <param name="MemoryBytes">Memory of the whole process tree (cgroup), and the basis of its address-space limit.</param>
/// <param name="Processes">Processes and threads of the tree (cgroup pids).</param>
/// <param name="OutputBytes">Bytes of combined stdout and stderr kept; writing more kills the run.</param>
/// <param name="FileSizeBytes">Largest file the task may write (RLIMIT_FSIZE).</param>
/// <param name="OpenFiles">Open file descriptors (RLIMIT_NOFILE).</param>
[GenerateSerializer, Immutable, Alias("outpost.TaskLimits")]
public sealed record TaskLimits(
    [property: Id(0)] int WallSeconds,
    [property: Id(1)] int CpuSeconds,
    [property: Id(2)] long MemoryBytes,
    [property: Id(3)] int Processes,
    [property: Id(4)] long OutputBytes,
    [property: Id(5)] long FileSizeBytes,
    [property: Id(6)] int OpenFiles)
{
    /// <summary>Whether every cap is within <paramref name="other"/>'s.</summary>
    public bool IsWithin(TaskLimits other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return WallSeconds <= other.WallSeconds && CpuSeconds <= other.CpuSeconds && MemoryBytes <= other.MemoryBytes
            && Processes <= other.Processes && OutputBytes <= other.OutputBytes && FileSizeBytes <= other.FileSizeBytes
            && OpenFiles <= other.OpenFiles;
    }
}
