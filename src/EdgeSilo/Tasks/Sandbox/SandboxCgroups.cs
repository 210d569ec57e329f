namespace Outpost.EdgeSilo.Tasks.Sandbox;

/// <summary>
/// The cgroups the runs' groups are made in, probed once: cgroup v1 (one tree per controller, as on this kind of VM) or
/// v2 (the unified tree, as on a Pi with systemd). Groups go under the silo's own group, so that limits the host set on
/// the silo still hold for its sandboxes.
/// </summary>
internal abstract class SandboxCgroups
{
    /// <summary>What the groups enforce, e.g. <c>sandbox:cgroup-v1:memory</c>.</summary>
    public abstract IReadOnlyList<string> Enforced { get; }

    /// <summary>Creates the run's groups with its limits set; throws <see cref="IOException"/> when the kernel refuses.</summary>
    public abstract RunCgroup Create(string runId, SandboxLimits limits);

    /// <summary>The cgroups this machine offers, or null (with the reason logged) when none is usable.</summary>
    public static SandboxCgroups? Probe(SandboxOptions options, ILogger logger)
    {
        try
        {
            return File.Exists(Path.Combine(options.CgroupRoot, "cgroup.controllers"))
                ? CgroupV2.TryCreate(options, logger)
                : CgroupV1.TryCreate(options, logger);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            SandboxRunner.LogCgroupsUnavailable(logger, options.CgroupRoot, ex.Message);
            return null;
        }
    }

    /// <summary>The silo's own group per controller from <c>/proc/self/cgroup</c> (<c>id:controllers:path</c>; v2 is <c>0::path</c>).</summary>
    protected static Dictionary<string, string> OwnGroups()
    {
        var groups = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines("/proc/self/cgroup"))
        {
            var parts = line.Split(':', 3);
            if (parts.Length != 3)
            {
                continue;
            }

            foreach (var controller in parts[1].Split(',', StringSplitOptions.RemoveEmptyEntries).DefaultIfEmpty(string.Empty))
            {
                groups[controller] = parts[2];
            }
        }

        return groups;
    }

    /// <summary>
    /// The directory for the silo's own group under <paramref name="mount"/>, or the mount itself when that path is not
    /// there (a container that sees its own group as the root of the mount).
    /// </summary>
    protected static string OwnDirectory(string mount, string? ownPath)
    {
        if (string.IsNullOrEmpty(ownPath) || ownPath == "/")
        {
            return mount;
        }

        var candidate = Path.Join(mount, ownPath);
        return Directory.Exists(candidate) ? candidate : mount;
    }

    protected static string Format(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Writes <paramref name="value"/> to the control file <paramref name="file"/> of a group.</summary>
    protected static void WriteControl(string directory, string file, string value) => File.WriteAllText(Path.Combine(directory, file), value);
}
