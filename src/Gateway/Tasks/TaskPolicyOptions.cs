namespace Outpost.Gateway.Tasks;

/// <summary>Remote execution at the gateway. Section <c>Tasks</c>.</summary>
public sealed class TaskPolicyOptions
{
    public const string Section = "Tasks";

    /// <summary>
    /// The policy file (YAML or JSON), checked at start and reloaded when it changes (a broken edit is refused and the
    /// policy in force stays). Empty: the built-in policy, under which every task needs approval.
    /// </summary>
    public string? PolicyFile { get; set; }

    /// <summary>Names of environment variables a task may set; anything else is refused.</summary>
    public List<string> EnvironmentAllowList { get; set; } = ["PYTHONPATH", "PYTHONDONTWRITEBYTECODE", "CI", "TZ", "LANG", "LC_ALL", "DOTNET_CLI_TELEMETRY_OPTOUT", "NO_COLOR"];
}
