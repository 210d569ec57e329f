using Outpost.Grains.TaskRuns;

namespace Outpost.Gateway.Tasks;

/// <summary>What policy looks at in a submission.</summary>
public sealed record TaskPolicyInput(
    string Tenant,
    string Kind,
    IReadOnlyList<string> Argv,
    string? Device,
    IReadOnlySet<string> CallerScopes,
    IReadOnlyList<string> InputOrigins,
    string Network,
    TaskLimits Limits);
