namespace Outpost.EdgeSilo.Tasks.Sandbox;

/// <summary>
/// What this machine's sandbox enforces, for the device to advertise: <c>sandbox:bwrap</c>, <c>sandbox:rlimit</c> and
/// per cgroup controller <c>sandbox:cgroup-v1:memory</c> (or <c>sandbox:cgroup-v2:memory</c>), <c>:pids</c>,
/// <c>:cpu</c>. When <paramref name="Available"/> is false, <paramref name="Problem"/> says why and nothing runs.
/// </summary>
public sealed record SandboxCapabilities(bool Available, string? Problem, IReadOnlyList<string> Enforced);
