using System.Diagnostics;
using System.Globalization;

namespace Outpost.EdgeSilo.Tasks.Sandbox;

/// <summary>
/// One run's cgroups (one per v1 hierarchy, one in v2): the files its first process writes itself into, its CPU time,
/// and the teardown that kills whatever is left in them and removes them.
/// </summary>
internal abstract class RunCgroup
{
    private static readonly TimeSpan SweepPause = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan RoundInterval = TimeSpan.FromMilliseconds(100);
    private readonly Action _released;
    private int _removed;

    protected RunCgroup(IReadOnlyList<string> directories, Action released)
    {
        Directories = directories;
        _released = released;
    }

    /// <summary>The run's group directories.</summary>
    public IReadOnlyList<string> Directories { get; }

    /// <summary>The <c>cgroup.procs</c> files the run's first process writes its pid into before it execs anything.</summary>
    public IReadOnlyList<string> ProcsFiles => Directories.Select(d => Path.Combine(d, "cgroup.procs")).ToList();

    /// <summary>The CPU time of every process the run had, or null when no controller accounts it.</summary>
    public abstract TimeSpan? ReadCpu();

    /// <summary>Kills every process in the groups at once, when the kernel can (v2's <c>cgroup.kill</c>).</summary>
    protected virtual bool TryKillAll() => false;

    /// <summary>Freezes or thaws the run, when a freezer is available: a frozen group cannot fork while it is swept.</summary>
    protected virtual Task SetFrozenAsync(bool frozen) => Task.CompletedTask;

    /// <summary>
    /// Kills every process still in the groups until they are empty or <paramref name="bound"/> has passed; true when
    /// empty. A kill round freezes the groups first, so that the pids read cannot fork, exit or be reused before they are
    /// killed (the kill takes effect when the groups are thawed). Between rounds the sweep only watches the killed
    /// processes go (the kernel takes a moment to tear a process down); a pid it has not killed yet, or a round long ago,
    /// calls for another round.
    /// </summary>
    public async Task<bool> KillAllAsync(TimeSpan bound)
    {
        var started = Stopwatch.GetTimestamp();
        var killed = new HashSet<int>();
        var lastRound = started;
        while (true)
        {
            var pids = ReadPids();
            if (pids.Count == 0)
            {
                return true;
            }

            if (pids.Any(pid => !killed.Contains(pid)) || Stopwatch.GetElapsedTime(lastRound) > RoundInterval)
            {
                lastRound = Stopwatch.GetTimestamp();
                if (!TryKillAll())
                {
                    await SetFrozenAsync(true);
                    try
                    {
                        foreach (var pid in ReadPids())
                        {
                            NativeMethods.Kill(pid);
                            killed.Add(pid);
                        }
                    }
                    finally
                    {
                        await SetFrozenAsync(false);
                    }
                }
                else
                {
                    killed.UnionWith(pids);
                }
            }

            if (Stopwatch.GetElapsedTime(started) > bound)
            {
                return ReadPids().Count == 0;
            }

            await Task.Delay(SweepPause);
        }
    }

    /// <summary>
    /// Removes the groups, retrying while the kernel finishes tearing down the processes that left them (rmdir fails with
    /// EBUSY until then), for at most <paramref name="bound"/>; true when all are gone.
    /// </summary>
    public async Task<bool> RemoveAsync(TimeSpan bound)
    {
        var started = Stopwatch.GetTimestamp();
        var left = Directories.Where(Directory.Exists).ToList();
        while (left.Count > 0)
        {
            left = left.Where(directory => !TryRemove(directory)).ToList();
            if (left.Count == 0 || Stopwatch.GetElapsedTime(started) > bound)
            {
                break;
            }

            await Task.Delay(SweepPause);
        }

        if (Interlocked.Exchange(ref _removed, 1) == 0)
        {
            _released();
        }

        return left.Count == 0;
    }

    /// <summary>Every pid in the groups (each v1 hierarchy lists the same processes; a straggler may be in only one).</summary>
    public IReadOnlyList<int> ReadPids()
    {
        var pids = new HashSet<int>();
        foreach (var file in ProcsFiles)
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines(file);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            foreach (var line in lines)
            {
                if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                {
                    pids.Add(pid);
                }
            }
        }

        return [.. pids];
    }

    /// <summary>rmdir of a group; false while it still has tasks or children.</summary>
    public static bool TryRemove(string directory)
    {
        try
        {
            // Non-recursive: on cgroupfs this is rmdir(2), which takes the control files with it.
            Directory.Delete(directory);
            return true;
        }
        catch (DirectoryNotFoundException)
        {
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
