namespace Outpost.EdgeSilo.Tasks.Sandbox;

/// <summary>
/// What every run on this machine shares, settled once by the probe: the tools of the chain, the identity the sandbox
/// runs as, the host paths it sees, and, when no pids cgroup is there, for how many runs at once RLIMIT_NPROC (counted per uid, over all of them) is sized.
/// </summary>
internal sealed record SandboxPlan(
    string Bubblewrap,
    string Prlimit,
    string Setpriv,
    bool SwitchUser,
    int UserId,
    int GroupId,
    IReadOnlyList<string> ReadOnlyPaths,
    IReadOnlyList<(string Link, string Target)> RootLinks,
    int? ProcessRlimitRuns);
