using Xunit;

namespace Outpost.EdgeSilo.Tests.Tasks.Sandbox;

/// <summary>A fact that needs root: the sandbox switches to uid 65534 and creates cgroups. Skipped, saying so, when not root.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Skip = "Needs root: the sandbox switches to uid 65534 with setpriv and creates cgroups (CI runs as root).";
        }
    }
}
