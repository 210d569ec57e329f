namespace Outpost.EdgeSilo.Tasks.Sandbox;

/// <summary>
/// The outcome of a run: <paramref name="ExitCode"/> only when it <see cref="SandboxEnd.Exited"/> (128 + signal when a
/// signal killed it); <paramref name="Wall"/> from start to end; <paramref name="Cpu"/> the CPU time of all its processes
/// (null without a cgroup to measure it); <paramref name="OutputBytes"/> the bytes passed on; <paramref name="Error"/>
/// why it could not start.
/// </summary>
public sealed record SandboxResult(SandboxEnd End, int? ExitCode, TimeSpan Wall, TimeSpan? Cpu, long OutputBytes, string? Error);
