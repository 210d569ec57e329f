namespace Outpost.EdgeSilo.Tasks.Sandbox;

/// <summary>How a sandboxed run ended.</summary>
public enum SandboxEnd
{
    /// <summary>The command ran and exited (possibly killed by a signal, e.g. by the kernel's OOM killer: exit code 128 + signal).</summary>
    Exited,

    /// <summary>The wall limit ended it.</summary>
    TimedOut,

    /// <summary>The caller's cancellation ended it.</summary>
    Cancelled,

    /// <summary>It wrote more than its output limit; what was passed on stops exactly at the limit.</summary>
    OutputLimit,

    /// <summary>The command never ran (bad request, sandbox unavailable, bwrap could not set up or exec it).</summary>
    StartFailed,
}
