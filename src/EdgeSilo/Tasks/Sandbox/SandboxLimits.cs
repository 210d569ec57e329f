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
    /// The address space per process (RLIMIT_AS). Null (the default) derives it from <see cref="MemoryBytes"/>: the
    /// larger of twice the memory and the memory plus 2 GiB. Runtimes reserve far more address space than they touch
    /// (glibc arenas, thread stacks, the JIT's and GC's reservations): with an address-space cap near the memory they
    /// fail at start (measured: <c>dotnet --version</c> of .NET 10 needs about 2 GiB, whatever the memory), while the
    /// memory cgroup caps what is really used. Without that cgroup this is the only memory cap, and a loose one.
    /// </summary>
    public long? AddressSpaceBytes { get; init; }
}
