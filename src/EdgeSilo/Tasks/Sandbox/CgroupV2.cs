using System.Diagnostics;
using System.Globalization;

namespace Outpost.EdgeSilo.Tasks.Sandbox;

/// <summary>
/// cgroup v2 (a Pi with systemd): a group per run, <c>&lt;own group&gt;/&lt;CgroupName&gt;/&lt;runId&gt;</c>, under the silo's
/// own group, which must be delegated to it (systemd <c>Delegate=yes</c>, or root). memory.max (and memory.swap.max 0),
/// pids.max and cpu.max (one CPU) enforce, cpu.stat measures, cgroup.kill (or the freezer) tears down.
/// Not exercised by the tests: the machine they run on has cgroup v1 only.
/// </summary>
internal sealed class CgroupV2 : SandboxCgroups
{
    private const long CpuPeriodMicroseconds = 100_000;
    private static readonly string[] Enforcing = ["memory", "pids", "cpu"];

    private readonly string _parent;
    private readonly IReadOnlyList<string> _controllers;
    private readonly Lock _lock = new();

    private CgroupV2(string parent, IReadOnlyList<string> controllers)
    {
        _parent = parent;
        _controllers = controllers;
        Enforced = controllers.Select(c => $"sandbox:cgroup-v2:{c}").ToList();
    }

    public override IReadOnlyList<string> Enforced { get; }

    public static CgroupV2? TryCreate(SandboxOptions options, ILogger logger)
    {
        var own = OwnDirectory(options.CgroupRoot, OwnGroups().GetValueOrDefault(string.Empty));
        var available = File.ReadAllText(Path.Combine(own, "cgroup.controllers")).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var controllers = Enforcing.Where(available.Contains).ToList();
        if (controllers.Count == 0)
        {
            SandboxRunner.LogCgroupControllerUnusable(logger, string.Join(',', Enforcing), own, "none of these controllers is delegated to the silo's group");
            return null;
        }

        var parent = Path.Combine(own, options.CgroupName);
        try
        {
            EnableControllers(own, controllers, Path.Combine(own, options.CgroupName + "-silo"), logger);
            Directory.CreateDirectory(parent);
            EnableControllers(parent, controllers, leaf: null, logger);

            var cgroups = new CgroupV2(parent, controllers);
            var probe = cgroups.Create($"probe-{Environment.ProcessId}-{Guid.NewGuid():N}",
                new SandboxLimits(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), 64 << 20, 8, 0, 1, 16));
            RunCgroup.TryRemove(probe.Directories[0]);
            return cgroups;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            SandboxRunner.LogCgroupControllerUnusable(logger, string.Join(',', controllers), parent, ex.Message);
            return null;
        }
    }

    public override RunCgroup Create(string runId, SandboxLimits limits)
    {
        var directory = Path.Combine(_parent, runId);
        lock (_lock)
        {
            if (Directory.Exists(directory))
            {
                throw new IOException($"the cgroup '{directory}' already exists: is run '{runId}' running twice?");
            }

            Directory.CreateDirectory(directory);
        }

        try
        {
            if (_controllers.Contains("memory"))
            {
                WriteControl(directory, "memory.max", Format(limits.MemoryBytes));
                if (File.Exists(Path.Combine(directory, "memory.swap.max")))
                {
                    WriteControl(directory, "memory.swap.max", "0");
                }
            }

            if (_controllers.Contains("pids"))
            {
                WriteControl(directory, "pids.max", Format(SandboxCommand.PidsMax(limits)));
            }

            if (_controllers.Contains("cpu"))
            {
                WriteControl(directory, "cpu.max", $"{Format(CpuPeriodMicroseconds)} {Format(CpuPeriodMicroseconds)}");
            }

            return new Run(directory, released: () => { });
        }
        catch
        {
            RunCgroup.TryRemove(directory);
            throw;
        }
    }

    // A v2 group may either hold processes or hand controllers to children ("no internal processes"): when the silo's
    // own group holds the silo, the silo moves into a leaf of it first, as systemd documents for delegated groups.
    private static void EnableControllers(string group, IReadOnlyList<string> controllers, string? leaf, ILogger logger)
    {
        var enabled = File.ReadAllText(Path.Combine(group, "cgroup.subtree_control")).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var missing = controllers.Where(c => !enabled.Contains(c)).ToList();
        if (missing.Count == 0)
        {
            return;
        }

        var change = string.Join(' ', missing.Select(c => "+" + c));
        try
        {
            WriteControl(group, "cgroup.subtree_control", change);
        }
        catch (IOException) when (leaf is not null)
        {
            Directory.CreateDirectory(leaf);
            foreach (var pid in File.ReadAllLines(Path.Combine(group, "cgroup.procs")).Where(l => l.Length > 0))
            {
                WriteControl(leaf, "cgroup.procs", pid);
            }

            SandboxRunner.LogSiloMovedToLeaf(logger, leaf);
            WriteControl(group, "cgroup.subtree_control", change);
        }
    }

    private sealed class Run(string directory, Action released) : RunCgroup([directory], released)
    {
        private static readonly TimeSpan FreezeWait = TimeSpan.FromMilliseconds(500);

        public override TimeSpan? ReadCpu()
        {
            try
            {
                foreach (var line in File.ReadLines(Path.Combine(directory, "cpu.stat")))
                {
                    if (line.StartsWith("usage_usec ", StringComparison.Ordinal)
                        && long.TryParse(line.AsSpan("usage_usec ".Length), NumberStyles.None, CultureInfo.InvariantCulture, out var microseconds))
                    {
                        return TimeSpan.FromMicroseconds(microseconds);
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
            }

            return null;
        }

        protected override bool TryKillAll()
        {
            // Linux 5.14 and later: the kernel kills every process of the group, forks in flight included.
            var kill = Path.Combine(directory, "cgroup.kill");
            if (!File.Exists(kill))
            {
                return false;
            }

            try
            {
                File.WriteAllText(kill, "1");
                return true;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return false;
            }
        }

        protected override async Task SetFrozenAsync(bool frozen)
        {
            try
            {
                await File.WriteAllTextAsync(Path.Combine(directory, "cgroup.freeze"), frozen ? "1" : "0");
                var started = Stopwatch.GetTimestamp();
                while (frozen && !(await File.ReadAllLinesAsync(Path.Combine(directory, "cgroup.events"))).Contains("frozen 1")
                    && Stopwatch.GetElapsedTime(started) < FreezeWait)
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
