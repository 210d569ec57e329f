namespace Outpost.EdgeSilo.Tasks.Sandbox;

/// <summary>
/// What one run may use. <paramref name="Wall"/> bounds the run from start to end; <paramref name="Cpu"/> is each
/// process's CPU time (RLIMIT_CPU; the cgroup holds the whole run to one CPU, so the run's total CPU stays under the wall
/// time); <paramref name="MemoryBytes"/> is the run's memory (cgroup, swap included where the kernel accounts it);
/// <paramref name="Processes"/> its tasks (processes and threads, cgroup pids); <paramref name="OutputBytes"/> its
/// combined stdout and stderr; <paramref name="FileSizeBytes"/> the largest file it may write (RLIMIT_FSIZE);
/// <paramref name="OpenFiles"/> the open descriptors per process (RLIMIT_NOFILE).
/// </summary>
public sealed record SandboxLimits(
    TimeSpan Wall, TimeSpan Cpu, long MemoryBytes, int Processes, long OutputBytes, long FileSizeBytes, int OpenFiles)
{
    /// <summary>
    /// The address space per process (RLIMIT_AS). Null (the default) derives it from <see cref="MemoryBytes"/>:
    /// the larger of twice the memory and the memory plus 1 GiB, because runtimes reserve far more address space than
    /// they touch (glibc arenas, thread stacks, the .NET GC's reservations): an address-space cap equal to the memory
    /// would break them, while the cgroup caps what is really used.
    /// </summary>
    public long? AddressSpaceBytes { get; init; }
}
