using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Outpost.EdgeSilo.Tasks.Sandbox;

/// <summary>
/// Runs task commands in a bubblewrap sandbox on the device: no network, a read-only view of the toolchains, a private
/// /tmp with the run's work directory at /tmp/work, an unprivileged uid, rlimits, and per-run cgroups (memory, pids,
/// one CPU) where the machine has them. Whatever way a run ends, none of its processes is left when it returns.
/// </summary>
public sealed partial class SandboxRunner : IDisposable
{
    private const string StatusDirectoryName = ".status";
    private const int SignalExitBase = 128;
    private const UnixFileMode WorkRootMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
    private const UnixFileMode PrivateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    // Teardown bounds: the kernel normally needs milliseconds; these only keep a wedged kernel from hanging a run.
    private static readonly TimeSpan KillBound = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ExitBound = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan PipeBound = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan InitGrace = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RemoveBound = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ProbeWall = TimeSpan.FromSeconds(30);

    // What a timer can wait for.
    private static readonly TimeSpan MaxWall = TimeSpan.FromMilliseconds(int.MaxValue - 1);
    private static readonly string[] ToolDirectories = ["/usr/bin", "/bin", "/usr/sbin", "/sbin"];
    private static readonly string[] FixedVariables = ["HOME", "TMPDIR"];

    private readonly SandboxOptions _options;
    private readonly ILogger<SandboxRunner> _logger;
    private readonly SemaphoreSlim _slots;
    private readonly Lazy<(SandboxCapabilities Capabilities, SandboxPlan? Plan, SandboxCgroups? Cgroups)> _probe;
    private readonly string _workRoot;

    /// <summary>Creates the runner; the machine is probed on first use (<see cref="Capabilities"/> or a run).</summary>
    public SandboxRunner(IOptions<SandboxOptions> options, ILogger<SandboxRunner> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options.Value;
        _logger = logger;
        _workRoot = Path.TrimEndingDirectorySeparator(Path.GetFullPath(_options.WorkRoot));
        _slots = new SemaphoreSlim(_options.MaxConcurrentRuns, _options.MaxConcurrentRuns);
        _probe = new Lazy<(SandboxCapabilities, SandboxPlan?, SandboxCgroups?)>(Probe, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>
    /// What this machine enforces, probed once: bwrap present and able to run <c>true</c> as <see cref="SandboxOptions.UserId"/>,
    /// and which cgroup controllers the silo can use. Without a usable cgroup, runs still go ahead with rlimits only.
    /// </summary>
    public SandboxCapabilities Capabilities => _probe.Value.Capabilities;

    /// <summary>
    /// Creates an empty work directory for <paramref name="runId"/> under <see cref="SandboxOptions.WorkRoot"/> (mode
    /// 0700, owned by the sandbox's uid and gid; the root itself is kept 0711 and owned by the silo) and returns its host
    /// path. <paramref name="runId"/> must be a plain name (letters, digits, '_', '.', '-'; no leading '.').
    /// </summary>
    public string CreateWorkDirectory(string runId)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("The sandbox needs Linux.");
        }

        if (!IsRunId(runId))
        {
            throw new ArgumentException("A run id is 1 to 128 letters, digits, '_', '.' or '-', not starting with '.'.", nameof(runId));
        }

        EnsureWorkRoot();
        var path = Path.Combine(_workRoot, runId);
        // Path.Exists sees a dangling symlink too.
        if (Path.Exists(path))
        {
            throw new IOException($"The work directory '{path}' already exists.");
        }

        Directory.CreateDirectory(path, PrivateMode);
        if (NativeMethods.EffectiveUserId != _options.UserId)
        {
            NativeMethods.ChangeOwner(path, _options.UserId, _options.GroupId);
        }

        return path;
    }

    /// <summary>Removes a work directory <see cref="CreateWorkDirectory"/> made, with everything the run left in it.</summary>
    public void DeleteWorkDirectory(string path)
    {
        if (!IsWorkDirectory(path))
        {
            throw new ArgumentException($"'{path}' is not a run's work directory under {_workRoot}.", nameof(path));
        }

        // Not following symlinks: the run may have left links to anywhere on the host.
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }

    /// <summary>
    /// Runs <see cref="SandboxRequest.Argv"/> in the sandbox. stdout and stderr both go to <paramref name="onOutput"/>, one
    /// chunk at a time in arrival order (across the two pipes, best effort), at most <see cref="SandboxLimits.OutputBytes"/>
    /// in all: beyond that nothing more is passed on, the run is killed and ends <see cref="SandboxEnd.OutputLimit"/>. A
    /// chunk's memory is valid only during the call. The wall limit ends it <see cref="SandboxEnd.TimedOut"/>, the token
    /// <see cref="SandboxEnd.Cancelled"/> (never an <see cref="OperationCanceledException"/>). A request that cannot run
    /// (bad run id, argv or environment name, a work directory not made by <see cref="CreateWorkDirectory"/>, the sandbox
    /// unavailable) ends <see cref="SandboxEnd.StartFailed"/> with the reason in <see cref="SandboxResult.Error"/>. When it
    /// returns, the run's whole process tree is dead and its cgroups are removed. An exception from
    /// <paramref name="onOutput"/> kills the run and is rethrown once it is torn down.
    /// </summary>
    public async Task<SandboxResult> RunAsync(SandboxRequest request, Func<ReadOnlyMemory<byte>, ValueTask> onOutput, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(onOutput);

        var (capabilities, plan, cgroups) = _probe.Value;
        if (plan is null)
        {
            return StartFailed(capabilities.Problem ?? "the sandbox is unavailable.");
        }

        if (Validate(request) is { } problem)
        {
            return StartFailed(problem);
        }

        try
        {
            await _slots.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return new SandboxResult(SandboxEnd.Cancelled, null, TimeSpan.Zero, null, 0, null);
        }

        try
        {
            return await RunInSandboxAsync(request, plan, cgroups, onOutput, cancellationToken);
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>Releases the run slots; call it once no run is in progress (the host does, at shutdown).</summary>
    public void Dispose() => _slots.Dispose();

    private async Task<SandboxResult> RunInSandboxAsync(
        SandboxRequest request, SandboxPlan plan, SandboxCgroups? cgroups, Func<ReadOnlyMemory<byte>, ValueTask> onOutput, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return new SandboxResult(SandboxEnd.Cancelled, null, TimeSpan.Zero, null, 0, null);
        }

        RunCgroup? cgroup = null;
        if (cgroups is not null)
        {
            try
            {
                cgroup = cgroups.Create(request.RunId, request.Limits);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LogRunCgroupFailed(_logger, request.RunId, ex.Message);
                return StartFailed($"the run's cgroups could not be created: {ex.Message}");
            }
        }

        var statusFile = Path.Combine(_workRoot, StatusDirectoryName, request.RunId + ".json");
        try
        {
            return await RunChainAsync(request, plan, cgroup, statusFile, onOutput, cancellationToken);
        }
        finally
        {
            TryDelete(statusFile);
            if (cgroup is not null && !await cgroup.RemoveAsync(RemoveBound))
            {
                LogCgroupNotRemoved(_logger, request.RunId, cgroup.Directories);
            }
        }
    }

    private async Task<SandboxResult> RunChainAsync(
        SandboxRequest request, SandboxPlan plan, RunCgroup? cgroup, string statusFile, Func<ReadOnlyMemory<byte>, ValueTask> onOutput,
        CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var end = SandboxEnd.Exited;
        using var pump = new OutputPump(request.Limits.OutputBytes, onOutput);
        using var process = new Process { StartInfo = SandboxCommand.Build(request, plan, statusFile, cgroup?.ProcsFiles ?? []) };
        try
        {
            await ProcessSpawner.StartAsync(process);
        }
        catch (Win32Exception ex)
        {
            return StartFailed($"the sandbox's first step could not be started: {ex.Message}");
        }

        LogRunStarted(_logger, request.RunId, process.Id);
        var pumps = Task.CompletedTask;
        TimeSpan? wall = null;
        try
        {
            process.StandardInput.Close();
            pumps = Task.WhenAll(
                Task.Run(() => pump.PumpAsync(process.StandardOutput.BaseStream), CancellationToken.None),
                Task.Run(() => pump.PumpAsync(process.StandardError.BaseStream), CancellationToken.None));

            using var wallLimit = new CancellationTokenSource(request.Limits.Wall);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, wallLimit.Token, pump.Stopped);
            try
            {
                await process.WaitForExitAsync(stop.Token);
            }
            catch (OperationCanceledException)
            {
                end = pump.Stopped.IsCancellationRequested ? SandboxEnd.OutputLimit
                    : cancellationToken.IsCancellationRequested ? SandboxEnd.Cancelled
                    : SandboxEnd.TimedOut;
            }

            wall = clock.Elapsed;
        }
        finally
        {
            await TearDownAsync(request.RunId, process, cgroup, pump, pumps, statusFile);
        }

        wall ??= clock.Elapsed;
        var cpu = cgroup?.ReadCpu();
        if (pump.SinkFailure is { } failure)
        {
            // The caller's sink gave up on the run because the caller was cancelled: that is a cancellation like any other.
            if (!(failure is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                ExceptionDispatchInfo.Throw(failure);
            }

            end = SandboxEnd.Cancelled;
        }
        else if (pump.LimitExceeded && end == SandboxEnd.Exited)
        {
            // It exited while the last of its output was still being read: that output was cut all the same.
            end = SandboxEnd.OutputLimit;
        }

        var commandExit = BwrapStatus.Read(statusFile).ExitCode;
        var chainExit = process.HasExited ? process.ExitCode : -1;
        if (end == SandboxEnd.Exited && commandExit is null && chainExit > SignalExitBase)
        {
            // Something outside killed bwrap before it could report (the OOM killer, an operator): report the signal.
            commandExit = chainExit;
        }

        if (end == SandboxEnd.Exited && commandExit is null)
        {
            // bwrap (or setpriv, prlimit, or joining the cgroups) failed before the command ran; its message is on stderr.
            var head = pump.Head;
            var exitCode = chainExit;
            var detail = exitCode == SandboxCommand.JoinFailedExitCode ? "joining the run's cgroups failed" : $"exit code {exitCode}";
            LogRunNotStarted(_logger, request.RunId, detail, head);
            return new SandboxResult(SandboxEnd.StartFailed, null, wall.Value, cpu, pump.PassedBytes,
                $"the sandbox did not start the command ({detail}){(head.Length > 0 ? ": " + head : ".")}");
        }

        LogRunEnded(_logger, request.RunId, end, commandExit, wall.Value.TotalMilliseconds, pump.PassedBytes);
        return new SandboxResult(end, end == SandboxEnd.Exited ? commandExit : null, wall.Value, cpu, pump.PassedBytes, null);
    }

    // Kills the chain and everything in its cgroups, waits (bounded) for the chain to be reaped, then for both pipes to
    // end, which they do once every process that held them is dead: unbounded then, because a slow sink may still be
    // taking output the run wrote before it ended; bounded only when something survived the kill (it may hold a pipe).
    // The cgroup sweep goes first: it freezes the run, so a fork bomb stops growing while it is killed, whereas walking
    // the process tree of a bomb that still forks takes the better part of a second. The tree kill then gets anything
    // outside the cgroups (nothing, unless there are none: then the pid namespace dies with bwrap's pid 1).
    private async Task TearDownAsync(string runId, Process process, RunCgroup? cgroup, OutputPump pump, Task pumps, string statusFile)
    {
        var allDead = true;
        if (cgroup is not null && !await cgroup.KillAllAsync(KillBound))
        {
            allDead = false;
            var left = cgroup.ReadPids();
            LogProcessesLeft(_logger, runId, left);
        }

        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or Win32Exception or AggregateException)
        {
            // It exited meanwhile.
        }

        try
        {
            await process.WaitForExitAsync().WaitAsync(ExitBound);
        }
        catch (TimeoutException)
        {
            allDead = false;
            LogProcessesLeft(_logger, runId, [process.Id]);
        }

        // Without cgroups, nothing above waited for the sandbox's pid 1 to finish killing and reaping the namespace's
        // last processes (bwrap's monitor does not): until it has, they still count against RLIMIT_NPROC.
        var status = BwrapStatus.Read(statusFile);
        if (!await WaitForSandboxInitAsync(status))
        {
            allDead = false;
            LogProcessesLeft(_logger, runId, [status.ChildPid ?? 0]);
        }

        if (allDead)
        {
            await pumps;
            return;
        }

        try
        {
            await pumps.WaitAsync(PipeBound);
        }
        catch (TimeoutException)
        {
            // A survivor holds a pipe: stop passing output on, and leave the readers to end with it.
            pump.Abandon();
        }
    }

    private static async Task<bool> WaitForSandboxInitAsync(BwrapStatus status)
    {
        var started = Stopwatch.GetTimestamp();
        while (status.SandboxInitAlive())
        {
            if (Stopwatch.GetElapsedTime(started) > KillBound)
            {
                return false;
            }

            if (Stopwatch.GetElapsedTime(started) > InitGrace && status.ChildPid is { } pid)
            {
                NativeMethods.Kill(pid);
            }

            await Task.Delay(1);
        }

        return true;
    }

    private (SandboxCapabilities, SandboxPlan?, SandboxCgroups?) Probe()
    {
        var (capabilities, plan, cgroups) = ProbeCore();
        if (capabilities.Available)
        {
            LogSandboxAvailable(_logger, capabilities.Enforced);
        }
        else
        {
            LogSandboxUnavailable(_logger, capabilities.Problem ?? string.Empty);
        }

        return (capabilities, plan, cgroups);
    }

    private (SandboxCapabilities, SandboxPlan?, SandboxCgroups?) ProbeCore()
    {
        static (SandboxCapabilities, SandboxPlan?, SandboxCgroups?) Unavailable(string problem) =>
            (new SandboxCapabilities(false, problem, []), null, null);

        if (!OperatingSystem.IsLinux())
        {
            return Unavailable("the sandbox needs Linux.");
        }

        if (!File.Exists(_options.BubblewrapPath))
        {
            return Unavailable($"bubblewrap is not at {_options.BubblewrapPath} ({SandboxOptions.Section}:{nameof(SandboxOptions.BubblewrapPath)}; Debian: apt-get install bubblewrap).");
        }

        if (FindTool("prlimit") is not { } prlimit || FindTool("setpriv") is not { } setpriv || !File.Exists("/bin/sh"))
        {
            return Unavailable("/bin/sh, prlimit or setpriv (util-linux) is missing.");
        }

        var uid = NativeMethods.EffectiveUserId;
        if (uid != 0 && uid != _options.UserId)
        {
            return Unavailable($"the silo runs as uid {uid}: switching to uid {_options.UserId} ({SandboxOptions.Section}:{nameof(SandboxOptions.UserId)}) needs root, or set it to {uid}.");
        }

        var cgroups = SandboxCgroups.Probe(_options, _logger);
        var hasPids = cgroups?.Enforced.Any(e => e.EndsWith(":pids", StringComparison.Ordinal)) == true;
        var (links, rootDirectories) = SandboxCommand.HostRootLinks();
        var readOnly = new List<string>();
        foreach (var path in _options.ReadOnlyPaths.Select(p => Path.TrimEndingDirectorySeparator(Path.GetFullPath(p))).Concat(rootDirectories).Distinct(StringComparer.Ordinal))
        {
            if (links.Any(l => l.Link == path))
            {
                continue;
            }

            if (Path.Exists(path))
            {
                readOnly.Add(path);
            }
            else
            {
                LogReadOnlyPathMissing(_logger, path);
            }
        }

        // Parents before children, so that a child's bind is not hidden under its parent's.
        readOnly = [.. readOnly.OrderBy(p => p.Count(c => c == '/')).ThenBy(p => p, StringComparer.Ordinal)];

        // RLIMIT_NPROC counts every task of the uid on the host, all runs (and any other process of that uid) together, so
        // it cannot be a per-run limit: it stands in, loosely, only when no pids cgroup is there, and only for a uid of
        // the sandbox's own (as the silo's own uid it would count the silo's threads).
        int? processRlimitRuns = !hasPids && uid == 0 ? _options.MaxConcurrentRuns : null;
        var plan = new SandboxPlan(_options.BubblewrapPath, prlimit, setpriv, uid == 0, _options.UserId, _options.GroupId, readOnly, links, processRlimitRuns);

        try
        {
            var probe = ProbeRun(plan, cgroups);
            if (probe.End != SandboxEnd.Exited || probe.ExitCode != 0)
            {
                return Unavailable($"bwrap could not run 'true' as uid {_options.UserId}: {probe.Error ?? probe.End + " " + probe.ExitCode}");
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Unavailable($"the work root {_workRoot} is not usable: {ex.Message}");
        }

        List<string> enforced = ["sandbox:bwrap", "sandbox:rlimit", .. cgroups?.Enforced ?? []];
        return (new SandboxCapabilities(true, null, enforced), plan, cgroups);
    }

    private SandboxResult ProbeRun(SandboxPlan plan, SandboxCgroups? cgroups)
    {
        var runId = $"probe-{Environment.ProcessId}-{Guid.NewGuid():N}";
        var work = CreateWorkDirectory(runId);
        try
        {
            var limits = new SandboxLimits(ProbeWall, TimeSpan.FromSeconds(10), 256L << 20, 16, 64 * 1024, 1 << 20, 64);
            var request = new SandboxRequest(runId, ["true"], new Dictionary<string, string>(), work, limits);
            // Probing happens once, from a property getter: block on a run of 'true' (no synchronization context here).
            return Task.Run(() => RunInSandboxAsync(request, plan, cgroups, _ => ValueTask.CompletedTask, CancellationToken.None)).GetAwaiter().GetResult();
        }
        finally
        {
            DeleteWorkDirectory(work);
        }
    }

    private string? Validate(SandboxRequest request)
    {
        if (!IsRunId(request.RunId))
        {
            return "the run id must be 1 to 128 letters, digits, '_', '.' or '-', not starting with '.'.";
        }

        if (request.Argv is not { Count: > 0 } argv || string.IsNullOrEmpty(argv[0]) || argv.Any(a => a is null || a.Contains('\0', StringComparison.Ordinal)))
        {
            return "argv must have a command and no NUL characters.";
        }

        foreach (var (name, value) in request.Environment)
        {
            if (!EnvironmentName().IsMatch(name))
            {
                return $"the environment variable name '{name}' is not [A-Za-z_][A-Za-z0-9_]*.";
            }

            if (FixedVariables.Contains(name, StringComparer.Ordinal))
            {
                return $"{name} is set by the sandbox (HOME=/tmp/work, TMPDIR=/tmp) and cannot be overridden.";
            }

            if (value is null || value.Contains('\0', StringComparison.Ordinal))
            {
                return $"the environment variable {name} has no value or a NUL character.";
            }
        }

        if (!IsWorkDirectory(request.WorkDirectory) || !Directory.Exists(request.WorkDirectory))
        {
            return $"the work directory must be one CreateWorkDirectory made under {_workRoot}.";
        }

        var limits = request.Limits;
        if (limits is null || limits.Wall <= TimeSpan.Zero || limits.Wall > MaxWall || limits.Cpu <= TimeSpan.Zero || limits.MemoryBytes <= 0 || limits.Processes < 1
            || limits.OutputBytes < 0 || limits.FileSizeBytes < 0 || limits.OpenFiles < 1 || limits.AddressSpaceBytes is <= 0)
        {
            return $"the limits must be positive (output and file size may be 0), the wall limit at most {MaxWall.TotalDays:F0} days.";
        }

        return null;
    }

    private void EnsureWorkRoot()
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("The sandbox needs Linux.");
        }

        // The root must let the sandbox's uid through to its own directory but not list or change the others. It may
        // sit in a world-writable directory (/var/tmp), where anyone could have put a symlink or a directory of their
        // own first: a link is refused (root would chmod its target, and write status files through it), a directory
        // made by someone else is taken back.
        Directory.CreateDirectory(_workRoot);
        var status = Path.Combine(_workRoot, StatusDirectoryName);
        RefuseLink(_workRoot);
        if (NativeMethods.EffectiveUserId == 0)
        {
            NativeMethods.ChangeOwner(_workRoot, 0, 0);
        }

        File.SetUnixFileMode(_workRoot, WorkRootMode);
        Directory.CreateDirectory(status, PrivateMode);
        RefuseLink(status);
        if (NativeMethods.EffectiveUserId == 0)
        {
            NativeMethods.ChangeOwner(status, 0, 0);
        }

        File.SetUnixFileMode(status, PrivateMode);

        static void RefuseLink(string path)
        {
            if (new DirectoryInfo(path).LinkTarget is not null)
            {
                throw new IOException($"'{path}' is a symbolic link; the sandbox's work root must be a real directory.");
            }
        }
    }

    private bool IsWorkDirectory(string? path) =>
        !string.IsNullOrEmpty(path)
        && Path.IsPathFullyQualified(path)
        && Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(path))) == _workRoot
        && IsRunId(Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(path))));

    private static bool IsRunId(string? runId) => runId is not null && RunIdPattern().IsMatch(runId);

    private static string? FindTool(string name) =>
        ToolDirectories.Select(directory => Path.Combine(directory, name)).FirstOrDefault(File.Exists);

    private static void TryDelete(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    private static SandboxResult StartFailed(string error) => new(SandboxEnd.StartFailed, null, TimeSpan.Zero, null, 0, error);

    [GeneratedRegex("^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex RunIdPattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex EnvironmentName();
}
