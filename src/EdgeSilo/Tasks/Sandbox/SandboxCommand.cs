using System.Diagnostics;
using System.Globalization;

namespace Outpost.EdgeSilo.Tasks.Sandbox;

/// <summary>
/// The process chain of one run, every step an exec of the next in the same process, so that nothing the run starts can
/// fork before the first step has put it in its cgroups:
/// <c>sh -c JOIN sh STATUS PROCS... -- prlimit LIMITS -- setpriv --reuid U --regid G --clear-groups --no-new-privs
/// --pdeathsig=KILL -- bwrap OPTIONS -- ARGV</c> (user argv only ever as separate arguments, never in a shell string).
/// bwrap runs as the unprivileged uid, so that its user namespace maps the sandbox's uid to that host uid and host root
/// to the overflow uid: host root's files stay root's. It reports on fd 3 (opened by the first step, as root, on a
/// root-only file) whether the command ran and how it exited.
/// </summary>
internal static class SandboxCommand
{
    /// <summary>Where the workdir is inside.</summary>
    public const string WorkInside = "/tmp/work";

    /// <summary>The sandbox's PATH unless the request sets its own.</summary>
    public const string DefaultPath = "/usr/local/bin:/usr/bin:/bin";

    /// <summary>The exit code of the first step when it cannot join a cgroup or open the status file.</summary>
    public const int JoinFailedExitCode = 125;

    // bwrap's monitor and the pid 1 it starts in the new pid namespace are tasks of the run too.
    private const int BwrapTasks = 2;

    // bwrap's monitor exits before its pid 1 is reaped, so each run leaves a zombie for the host's init, which counts
    // against RLIMIT_NPROC until it is reaped (seen taking up to 2 s on a VM whose init reaps on a timer).
    private const int UnreapedAllowance = 32;
    private const long AddressSpaceHeadroom = 2L << 30;

    // $1 is the status file; then the cgroup.procs files up to "--"; then the rest of the chain. "$$" is this very
    // process, which then becomes prlimit, setpriv and bwrap by exec.
    private const string JoinScript = """
        exec 3>"$1" || exit 125
        shift
        for f do
          if [ "$f" = -- ]; then break; fi
          printf '%s\n' "$$" > "$f" || exit 125
          shift
        done
        shift
        exec "$@"
        """;

    private static readonly string[] RootLinks = ["/bin", "/lib", "/lib64", "/sbin"];
    private static readonly string[] IsolationOptions =
        ["--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session", "--cap-drop", "ALL"];

    /// <summary>pids.max for the run: its own tasks plus bwrap's two.</summary>
    public static long PidsMax(SandboxLimits limits) => (long)limits.Processes + BwrapTasks;

    /// <summary>RLIMIT_AS: see <see cref="SandboxLimits.AddressSpaceBytes"/>.</summary>
    public static long AddressSpace(SandboxLimits limits) =>
        limits.AddressSpaceBytes ?? Math.Max(SaturatingMultiply(limits.MemoryBytes, 2), SaturatingAdd(limits.MemoryBytes, AddressSpaceHeadroom));

    /// <summary>The start info of the whole chain for <paramref name="request"/>.</summary>
    public static ProcessStartInfo Build(SandboxRequest request, SandboxPlan plan, string statusFile, IReadOnlyList<string> procsFiles)
    {
        var limits = request.Limits;
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };

        // The chain starts with nothing of the silo's environment: bwrap clears it again for the command.
        start.Environment.Clear();
        start.Environment["PATH"] = DefaultPath;

        var args = start.ArgumentList;
        args.Add("-c");
        args.Add(JoinScript);
        args.Add("sh");
        args.Add(statusFile);
        foreach (var file in procsFiles)
        {
            args.Add(file);
        }

        args.Add("--");

        args.Add(plan.Prlimit);
        args.Add($"--cpu={Seconds(limits.Cpu)}");
        args.Add($"--as={Format(AddressSpace(limits))}");
        args.Add($"--fsize={Format(limits.FileSizeBytes)}");
        args.Add($"--nofile={Format(limits.OpenFiles)}");
        args.Add("--core=0");
        if (plan.ProcessRlimitRuns is { } runs)
        {
            args.Add($"--nproc={Format((PidsMax(limits) * runs) + UnreapedAllowance)}");
        }

        args.Add("--");

        args.Add(plan.Setpriv);
        if (plan.SwitchUser)
        {
            args.Add($"--reuid={Format(plan.UserId)}");
            args.Add($"--regid={Format(plan.GroupId)}");
            args.Add("--clear-groups");
        }

        // No setuid or file-capability gain from here on; and bwrap dies with the silo (its own --die-with-parent then
        // takes the command with it). The kernel's "parent" is the forking thread: see ProcessSpawner.
        args.Add("--no-new-privs");
        args.Add("--pdeathsig=KILL");
        args.Add("--");

        args.Add(plan.Bubblewrap);
        // --unshare-all only tries the user namespace; asking for it outright is what --disable-userns needs, which
        // stops the command from making namespaces of its own (and reaching the kernel code behind them).
        foreach (var option in IsolationOptions)
        {
            args.Add(option);
        }

        Add(args, "--uid", Format(plan.UserId));
        Add(args, "--gid", Format(plan.GroupId));
        Add(args, "--hostname", "sandbox");
        Add(args, "--dev", "/dev");
        Add(args, "--proc", "/proc");
        // /tmp is a private tmpfs (bounded like memory, which it is); binds under it come after it.
        Add(args, "--size", Format(limits.MemoryBytes));
        Add(args, "--tmpfs", "/tmp");
        foreach (var path in plan.ReadOnlyPaths)
        {
            args.Add("--ro-bind");
            args.Add(path);
            args.Add(path);
        }

        foreach (var (link, target) in plan.RootLinks)
        {
            args.Add("--symlink");
            args.Add(target);
            args.Add(link);
        }

        args.Add("--bind");
        args.Add(request.WorkDirectory);
        args.Add(WorkInside);
        Add(args, "--chdir", WorkInside);
        Add(args, "--remount-ro", "/");

        args.Add("--clearenv");
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = DefaultPath,
            ["HOME"] = WorkInside,
            ["TMPDIR"] = "/tmp",
            ["LANG"] = "C.UTF-8",
        };
        foreach (var (name, value) in request.Environment)
        {
            environment[name] = value;
        }

        foreach (var (name, value) in environment)
        {
            args.Add("--setenv");
            args.Add(name);
            args.Add(value);
        }

        Add(args, "--json-status-fd", "3");
        args.Add("--");
        foreach (var arg in request.Argv)
        {
            args.Add(arg);
        }

        return start;
    }

    /// <summary>
    /// /bin, /lib, /lib64 and /sbin as the host has them: a symlink (merged /usr) is recreated, a real directory is
    /// bound read-only, a missing one is left out.
    /// </summary>
    public static (List<(string Link, string Target)> Links, List<string> Directories) HostRootLinks()
    {
        var links = new List<(string, string)>();
        var directories = new List<string>();
        foreach (var path in RootLinks)
        {
            var info = new DirectoryInfo(path);
            if (info.LinkTarget is { } target)
            {
                links.Add((path, target));
            }
            else if (info.Exists)
            {
                directories.Add(path);
            }
        }

        return (links, directories);
    }

    private static void Add(System.Collections.ObjectModel.Collection<string> args, string option, string value)
    {
        args.Add(option);
        args.Add(value);
    }

    // RLIMIT_CPU is whole seconds; a fraction rounds up so that a limit never becomes shorter than asked.
    private static string Seconds(TimeSpan cpu) => Format((long)Math.Max(1, Math.Ceiling(cpu.TotalSeconds)));

    private static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static long SaturatingMultiply(long value, long factor) => value > long.MaxValue / factor ? long.MaxValue : value * factor;

    private static long SaturatingAdd(long value, long addend) => value > long.MaxValue - addend ? long.MaxValue : value + addend;
}
