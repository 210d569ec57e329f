namespace Outpost.Gateway.Tasks;

/// <summary>The conditions of a rule.</summary>
public sealed class TaskPolicyMatchDocument
{
    /// <summary>Task kinds, e.g. <c>unit-test</c>.</summary>
    public List<string>? Kinds { get; set; }

    /// <summary>Tenants.</summary>
    public List<string>? Tenants { get; set; }

    /// <summary>Devices the task names (a task that lets the router choose names none).</summary>
    public List<string>? Devices { get; set; }

    /// <summary>Scopes of which the caller holds at least one.</summary>
    public List<string>? Scopes { get; set; }

    /// <summary>Programs (argv[0]) exactly, e.g. <c>python3</c> or <c>/usr/bin/python3</c>.</summary>
    public List<string>? Programs { get; set; }

    /// <summary>A regular expression the arguments after argv[0], joined by single spaces, must match in full.</summary>
    public string? ArgsPattern { get; set; }

    /// <summary>Where every input artifact must come from: <c>upload</c> and/or <c>task</c> (produced by an earlier run).</summary>
    public List<string>? ArtifactOrigins { get; set; }

    /// <summary>The network policy asked for: <c>none</c>, or anything else.</summary>
    public string? Network { get; set; }

    /// <summary>True: only tasks within the default caps; false: only tasks asking for more.</summary>
    public bool? WithinDefaultLimits { get; set; }
}
