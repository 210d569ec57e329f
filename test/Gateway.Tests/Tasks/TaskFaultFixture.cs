using Outpost.Testing.Cluster;

namespace Outpost.Gateway.Tests.Tasks;

/// <summary>A cluster whose edge silos and second control silo are processes the tests kill.</summary>
public sealed class TaskFaultFixture : OutpostClusterFixture
{
    public TaskFaultFixture()
        : base(new ClusterScenario
        {
            EdgeDevices = [],
            GatewayConfiguration = new Dictionary<string, string?>(ClusterScenario.NoRateLimit) { ["Tasks:PolicyFile"] = PolicyFile() },
            ControlConfiguration = new Dictionary<string, string?> { ["Tasks:MonitorInterval"] = "00:00:00.200" },
        })
    {
    }

    private static string PolicyFile()
    {
        var file = Path.Combine(Path.GetTempPath(), $"outpost-test-policy-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, "rules:\n  - name: everything\n    decision: allow\n");
        return file;
    }
}
