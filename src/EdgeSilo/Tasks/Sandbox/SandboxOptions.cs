using System.ComponentModel.DataAnnotations;

namespace Outpost.EdgeSilo.Tasks.Sandbox;

/// <summary>How the device sandboxes task runs with bubblewrap, rlimits and cgroups. Section <c>Edge:Sandbox</c>.</summary>
public sealed class SandboxOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Edge:Sandbox";

    // Where the sandbox's own layout lives: a host path bound there would hide or be hidden by it.
    private static readonly string[] ReservedInside = ["/tmp/work", "/proc", "/dev"];

    /// <summary>The bubblewrap executable.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "must name the bubblewrap executable, e.g. /usr/bin/bwrap.")]
    public string BubblewrapPath { get; set; } = "/usr/bin/bwrap";

    /// <summary>
    /// The unprivileged host uid the sandbox runs as (the silo switches to it with setpriv before starting bwrap, so
    /// that inside the user namespace it maps to this uid and not to host root). Never 0.
    /// </summary>
    [Range(1, int.MaxValue, ErrorMessage = "must be an unprivileged uid (1 or more), e.g. 65534 (nobody).")]
    public int UserId { get; set; } = 65534;

    /// <summary>The unprivileged host gid the sandbox runs as. Never 0.</summary>
    [Range(1, int.MaxValue, ErrorMessage = "must be an unprivileged gid (1 or more), e.g. 65534 (nogroup).")]
    public int GroupId { get; set; } = 65534;

    /// <summary>
    /// Host paths mounted read-only at the same place inside (toolchains: python3, dotnet...); ones missing on the host
    /// are skipped (and logged once). <c>/bin</c>, <c>/lib</c>, <c>/lib64</c> and <c>/sbin</c> are recreated as the
    /// symlinks the host has (Debian's merged /usr) or bound read-only when they are real directories. Files stay
    /// subject to host permissions for <see cref="UserId"/>: a root-owned 0600 file is visible but unreadable.
    /// Configured entries are added to these defaults (the configuration binder appends to lists).
    /// </summary>
    public List<string> ReadOnlyPaths { get; set; } = ["/usr", "/etc/alternatives", "/etc/ld.so.cache"];

    /// <summary>
    /// Where per-run work directories are created (the silo keeps it root-owned, mode 0711). It must be traversable by
    /// <see cref="UserId"/>, so not under a checkout in <c>/root</c> (mode 0700).
    /// </summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "must name a directory, e.g. /var/tmp/outpost-sandbox.")]
    public string WorkRoot { get; set; } = "/var/tmp/outpost-sandbox";

    /// <summary>How many runs may be in their sandbox at once; more wait for a free slot.</summary>
    [Range(1, 64, ErrorMessage = "must be from 1 to 64.")]
    public int MaxConcurrentRuns { get; set; } = 1;

    /// <summary>Where the cgroup file system is mounted (v1: one directory per controller; v2: the unified tree).</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "must name the cgroup mount, e.g. /sys/fs/cgroup.")]
    public string CgroupRoot { get; set; } = "/sys/fs/cgroup";

    /// <summary>
    /// The parent group the runs' groups are created in, under the silo's own group of each controller (at the root of
    /// a controller when the silo is there), so that limits the host puts on the silo also cover its sandboxes.
    /// </summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "must name a cgroup, e.g. outpost-sandbox.")]
    [RegularExpression("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", ErrorMessage = "must be a plain directory name (letters, digits, '_', '.', '-').")]
    public string CgroupName { get; set; } = "outpost-sandbox";

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Path.IsPathFullyQualified(BubblewrapPath))
        {
            yield return new ValidationResult("must be an absolute path.", [nameof(BubblewrapPath)]);
        }

        if (!Path.IsPathFullyQualified(WorkRoot) || Path.TrimEndingDirectorySeparator(Path.GetFullPath(WorkRoot)) == "/")
        {
            yield return new ValidationResult("must be an absolute path other than /.", [nameof(WorkRoot)]);
        }

        if (!Path.IsPathFullyQualified(CgroupRoot))
        {
            yield return new ValidationResult("must be an absolute path.", [nameof(CgroupRoot)]);
        }

        for (var i = 0; i < ReadOnlyPaths.Count; i++)
        {
            var path = ReadOnlyPaths[i];
            if (string.IsNullOrEmpty(path) || !Path.IsPathFullyQualified(path))
            {
                yield return new ValidationResult($"entry {i} must be an absolute path.", [nameof(ReadOnlyPaths)]);
                continue;
            }

            var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
            if (full is "/" or "/tmp" || ReservedInside.Any(reserved => IsSameOrUnder(full, reserved) || IsSameOrUnder(reserved, full)))
            {
                yield return new ValidationResult(
                    $"entry {i} ('{full}') would cover the sandbox's own /, /tmp, /tmp/work, /proc or /dev.", [nameof(ReadOnlyPaths)]);
            }
        }
    }

    private static bool IsSameOrUnder(string path, string directory) =>
        path == directory || path.StartsWith(directory + "/", StringComparison.Ordinal);
}
