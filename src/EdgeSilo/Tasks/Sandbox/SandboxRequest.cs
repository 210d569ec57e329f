namespace Outpost.EdgeSilo.Tasks.Sandbox;

/// <summary>
/// One run: <paramref name="Argv"/> (looked up on the sandbox's PATH when it has no '/') with
/// <paramref name="Environment"/> added to the sandbox's own (PATH, HOME=/tmp/work, TMPDIR=/tmp, LANG=C.UTF-8; PATH and
/// LANG may be overridden, HOME and TMPDIR may not), in <paramref name="WorkDirectory"/> (made by
/// <see cref="SandboxRunner.CreateWorkDirectory"/>, seen inside as /tmp/work), within <paramref name="Limits"/>.
/// <paramref name="RunId"/> names the run's cgroups and logs.
/// </summary>
public sealed record SandboxRequest(
    string RunId,
    IReadOnlyList<string> Argv,
    IReadOnlyDictionary<string, string> Environment,
    string WorkDirectory,
    SandboxLimits Limits);
