using System.Diagnostics;
using System.Globalization;

namespace Outpost.EdgeSilo.Tasks.Sandbox;

/// <summary>
/// cgroup v1: a group per run in each hierarchy, <c>&lt;CgroupRoot&gt;/&lt;controller&gt;/&lt;own group&gt;/&lt;CgroupName&gt;/&lt;runId&gt;</c>
/// (own group "/" at the root): memory (with swap when the kernel accounts it), pids and cpu (one CPU at most) enforce,
/// cpuacct measures, freezer stops forks while the teardown sweeps. Co-mounted controllers (cpu,cpuacct) share one group.
/// The parent group is removed when no run is left, so that it never keeps the silo's own group from being removed.
/// </summary>
internal sealed class CgroupV1 : SandboxCgroups
{
    private const long CpuPeriodMicroseconds = 100_000;
    private static readonly string[] Controllers = ["memory", "pids", "cpu", "cpuacct", "freezer"];
    private static readonly string[] Enforcing = ["memory", "pids", "cpu"];

    private readonly List<Hierarchy> _hierarchies;
    private readonly Lock _lock = new();
    private int _active;

    private CgroupV1(List<Hierarchy> hierarchies)
    {
        _hierarchies = hierarchies;
        Enforced = Enforcing.Where(c => hierarchies.Any(h => h.Controllers.Contains(c))).Select(c => $"sandbox:cgroup-v1:{c}").ToList();
    }

    public override IReadOnlyList<string> Enforced { get; }

    public static CgroupV1? TryCreate(SandboxOptions options, ILogger logger)
    {
        var own = OwnGroups();
        var byMount = new Dictionary<string, (string Parent, HashSet<string> Controllers)>(StringComparer.Ordinal);
        foreach (var controller in Controllers)
        {
            var mount = Path.Combine(options.CgroupRoot, controller);
            if (!Directory.Exists(mount))
            {
                SandboxRunner.LogCgroupControllerMissing(logger, controller, mount);
                continue;
            }

            // cpu and cpuacct are often one hierarchy reached through two symlinks: key groups by the real mount.
            var real = new DirectoryInfo(mount).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? mount;
            if (!byMount.TryGetValue(real, out var entry))
            {
                entry = (Path.Combine(OwnDirectory(real, own.GetValueOrDefault(controller)), options.CgroupName), new HashSet<string>(StringComparer.Ordinal));
                byMount[real] = entry;
            }

            entry.Controllers.Add(controller);
        }

        var usable = new List<Hierarchy>();
        foreach (var (parent, controllers) in byMount.Values)
        {
            var hierarchy = new Hierarchy(parent, controllers);
            if (Probe(hierarchy) is { } problem)
            {
                SandboxRunner.LogCgroupControllerUnusable(logger, string.Join(',', controllers), parent, problem);
            }
            else
            {
                usable.Add(hierarchy);
            }
        }

        return usable.Any(h => h.Controllers.Overlaps(Enforcing)) ? new CgroupV1(usable) : null;
    }

    public override RunCgroup Create(string runId, SandboxLimits limits)
    {
        lock (_lock)
        {
            var created = new List<string>();
            try
            {
                string? freezer = null;
                string? cpuacct = null;
                foreach (var hierarchy in _hierarchies)
                {
                    var directory = Path.Combine(hierarchy.Parent, runId);
                    Directory.CreateDirectory(hierarchy.Parent);
                    if (Directory.Exists(directory))
                    {
                        throw new IOException($"the cgroup '{directory}' already exists: is run '{runId}' running twice?");
                    }

                    Directory.CreateDirectory(directory);
                    created.Add(directory);
                    SetLimits(hierarchy.Controllers, directory, limits);
                    freezer = hierarchy.Controllers.Contains("freezer") ? directory : freezer;
                    cpuacct = hierarchy.Controllers.Contains("cpuacct") ? directory : cpuacct;
                }

                _active++;
                return new Run(created, freezer, cpuacct, Release);
            }
            catch
            {
                foreach (var directory in created)
                {
                    RunCgroup.TryRemove(directory);
                }

                RemoveParentsWhenIdle();
                throw;
            }
        }
    }

    private static void SetLimits(HashSet<string> controllers, string directory, SandboxLimits limits)
    {
        if (controllers.Contains("memory"))
        {
            WriteControl(directory, "memory.limit_in_bytes", Format(limits.MemoryBytes));
            // memsw is memory plus swap: the same value keeps the run from swapping its way past the limit.
            if (File.Exists(Path.Combine(directory, "memory.memsw.limit_in_bytes")))
            {
                WriteControl(directory, "memory.memsw.limit_in_bytes", Format(limits.MemoryBytes));
            }
        }

        if (controllers.Contains("pids"))
        {
            WriteControl(directory, "pids.max", Format(SandboxCommand.PidsMax(limits)));
        }

        if (controllers.Contains("cpu"))
        {
            WriteControl(directory, "cpu.cfs_period_us", Format(CpuPeriodMicroseconds));
            WriteControl(directory, "cpu.cfs_quota_us", Format(CpuPeriodMicroseconds));
        }
    }

    // A group can be made and limited here: the same steps a run takes, on a throwaway group.
    private static string? Probe(Hierarchy hierarchy)
    {
        var existed = Directory.Exists(hierarchy.Parent);
        var probe = Path.Combine(hierarchy.Parent, $"probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(probe);
            SetLimits(hierarchy.Controllers, probe, new SandboxLimits(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), 64 << 20, 8, 0, 1, 16));
            if (hierarchy.Controllers.Contains("freezer"))
            {
                WriteControl(probe, "freezer.state", "THAWED");
            }

            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return ex.Message;
        }
        finally
        {
            RunCgroup.TryRemove(probe);
            if (!existed)
            {
                RunCgroup.TryRemove(hierarchy.Parent);
            }
        }
    }

    private void Release()
    {
        lock (_lock)
        {
            _active--;
            RemoveParentsWhenIdle();
        }
    }

    private void RemoveParentsWhenIdle()
    {
        if (_active > 0)
        {
            return;
        }

        // Fails harmlessly while another silo on the machine has a run there.
        foreach (var hierarchy in _hierarchies)
        {
            RunCgroup.TryRemove(hierarchy.Parent);
        }
    }

    private sealed record Hierarchy(string Parent, HashSet<string> Controllers);

    private sealed class Run(IReadOnlyList<string> directories, string? freezer, string? cpuacct, Action released)
        : RunCgroup(directories, released)
    {
        private static readonly TimeSpan FreezeWait = TimeSpan.FromMilliseconds(500);

        public override TimeSpan? ReadCpu()
        {
            if (cpuacct is null)
            {
                return null;
            }

            try
            {
                var text = File.ReadAllText(Path.Combine(cpuacct, "cpuacct.usage")).Trim();
                return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var nanoseconds)
                    ? TimeSpan.FromTicks(nanoseconds / 100)
                    : null;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return null;
            }
        }

        protected override async Task SetFrozenAsync(bool frozen)
        {
            if (freezer is null)
            {
                return;
            }

            var state = Path.Combine(freezer, "freezer.state");
            try
            {
                await File.WriteAllTextAsync(state, frozen ? "FROZEN" : "THAWED");
                // FREEZING until every task has stopped; a task in uninterruptible sleep can hold it there, so the wait is
                // bounded and the sweep goes on (the next one catches what forked meanwhile).
                var started = Stopwatch.GetTimestamp();
                while (frozen && (await File.ReadAllTextAsync(state)).Trim() != "FROZEN" && Stopwatch.GetElapsedTime(started) < FreezeWait)
                {
                    await Task.Delay(1);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
            }
        }
    }
}
