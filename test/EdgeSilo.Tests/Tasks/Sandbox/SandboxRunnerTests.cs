using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Outpost.EdgeSilo.Tasks.Sandbox;
using Outpost.ServiceDefaults.Configuration;
using Xunit;

namespace Outpost.EdgeSilo.Tests.Tasks.Sandbox;

/// <summary>
/// The device's task sandbox with the real bubblewrap, rlimits and cgroups of this machine: what a run can see and do,
/// how each limit ends it, and that nothing of it is left afterwards.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class SandboxRunnerTests : IDisposable
{
    private const long MiB = 1 << 20;

    // Each test has its own work root and parent cgroup, so that what it finds left over can only be its own.
    private readonly string _id = Guid.NewGuid().ToString("N")[..12];
    private readonly List<string> _cleanup = [];
    private readonly List<SandboxRunner> _runners = [];

    private string WorkRoot => $"/var/tmp/outpost-sandbox-test-{_id}";

    public void Dispose()
    {
        foreach (var runner in _runners)
        {
            runner.Dispose();
        }

        foreach (var path in _cleanup.Append(WorkRoot))
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
    }

    [RootFact]
    public void Capabilities_OnThisMachine_ReportBwrapRlimitsAndCgroups()
    {
        var capabilities = Runner().Capabilities;

        Assert.True(capabilities.Available, capabilities.Problem);
        Assert.Null(capabilities.Problem);
        Assert.Contains("sandbox:bwrap", capabilities.Enforced);
        Assert.Contains("sandbox:rlimit", capabilities.Enforced);
        // This machine mounts cgroup v1 per controller; a CI runner with the unified hierarchy reports the v2 forms.
        var version = File.Exists("/sys/fs/cgroup/cgroup.controllers") ? "v2" : "v1";
        Assert.Contains($"sandbox:cgroup-{version}:memory", capabilities.Enforced);
        Assert.Contains($"sandbox:cgroup-{version}:pids", capabilities.Enforced);
        Assert.Contains($"sandbox:cgroup-{version}:cpu", capabilities.Enforced);
    }

    [RootFact]
    public async Task RunAsync_PythonCommand_ReturnsExitCodeOutputEnvironmentAndWorkFiles()
    {
        const string Script = """
            import os, sys
            print("hello", os.environ["GREETING"], os.getuid(), os.getcwd(), os.environ["HOME"])
            print("to stderr", file=sys.stderr)
            with open("result.txt", "w") as f:
                f.write("written inside")
            sys.exit(3)
            """;
        var runner = Runner();
        var work = runner.CreateWorkDirectory($"run-{_id}");

        var (result, output) = await RunAsync(runner, work, ["python3", "-c", Script], environment: new Dictionary<string, string> { ["GREETING"] = "from-the-host" });

        Assert.Equal(SandboxEnd.Exited, result.End);
        Assert.Equal(3, result.ExitCode);
        Assert.Null(result.Error);
        Assert.Contains("hello from-the-host 65534 /tmp/work /tmp/work", output, StringComparison.Ordinal);
        Assert.Contains("to stderr", output, StringComparison.Ordinal);
        Assert.Equal(Encoding.UTF8.GetByteCount(output), result.OutputBytes);
        Assert.NotNull(result.Cpu);
        Assert.Equal("written inside", await File.ReadAllTextAsync(Path.Combine(work, "result.txt")));

        runner.DeleteWorkDirectory(work);
        Assert.False(Directory.Exists(work));
    }

    [RootFact]
    public async Task RunAsync_DotnetToolchain_StartsUnderTheDefaultAddressSpaceLimit()
    {
        // The SDK these tests run on: <root>/shared/Microsoft.NETCore.App/<version>/ holds the runtime.
        var root = Path.GetFullPath(Path.Combine(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var runner = Runner(o => o.ReadOnlyPaths.Add(root));
        var environment = new Dictionary<string, string> { ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1" };

        var (result, output) = await RunAsync(runner, null, [Path.Combine(root, "dotnet"), "--version"], Limits() with { MemoryBytes = 512 * MiB, Processes = 256 }, environment);

        Assert.True(result.End == SandboxEnd.Exited, result.Error);
        Assert.True(result.ExitCode == 0, $"dotnet at {root} (which uid 65534 must be able to reach) failed: {output}");
        Assert.Matches(@"^\d+\.\d+\.\d+", output.Trim());
    }

    [RootFact]
    public async Task RunAsync_ConnectToListeningHostLoopbackPort_Fails()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var script = $$"""
            import socket
            try:
                socket.create_connection(("127.0.0.1", {{port}}), timeout=5)
                print("connected")
            except OSError as e:
                print("failed", type(e).__name__)
            """;

        var (result, output) = await RunAsync(Runner(), null, ["python3", "-c", script]);

        Assert.Equal(SandboxEnd.Exited, result.End);
        Assert.Contains("failed", output, StringComparison.Ordinal);
        Assert.DoesNotContain("connected", output, StringComparison.Ordinal);
        Assert.False(listener.Pending());
    }

    [RootFact]
    public async Task RunAsync_NameResolution_Fails()
    {
        // A name server on the host's loopback that answers anything: the sandbox must reach neither it nor any other.
        using var server = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)server.Client.LocalEndPoint!).Port;
        using var stop = new CancellationTokenSource();
        var answering = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var query = await server.ReceiveAsync(stop.Token);
                await server.SendAsync(query.Buffer, query.RemoteEndPoint, stop.Token);
            }
        });
        var script = $$"""
            import socket
            for name in ("example.com", "localhost"):
                try:
                    socket.getaddrinfo(name, 80)
                    print("resolved", name)
                except socket.gaierror as e:
                    print("unresolved", name)
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(2)
            query = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01"
            try:
                s.sendto(query, ("127.0.0.1", {{port}}))
                s.recvfrom(512)
                print("answered")
            except OSError as e:
                print("no answer", type(e).__name__)
            """;

        var (result, output) = await RunAsync(Runner(), null, ["python3", "-c", script]);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => answering);

        Assert.Equal(SandboxEnd.Exited, result.End);
        Assert.Contains("unresolved example.com", output, StringComparison.Ordinal);
        Assert.Contains("unresolved localhost", output, StringComparison.Ordinal);
        Assert.Contains("no answer", output, StringComparison.Ordinal);
        Assert.DoesNotContain("\nresolved", "\n" + output, StringComparison.Ordinal);
        Assert.DoesNotContain("answered", output, StringComparison.Ordinal);
    }

    [RootFact]
    public async Task RunAsync_WritesOutsideWorkDirectory_FailAndHostIsUnchanged()
    {
        var name = $"outpost-sandbox-escape-{_id}";
        string[] targets = ["/usr", "/", "/etc", "/home", "/usr/lib"];
        var script = $$"""
            import os
            for d in {{"[" + string.Join(", ", targets.Select(t => $"\"{t}\"")) + "]"}}:
                p = os.path.join(d, "{{name}}")
                try:
                    with open(p, "w") as f:
                        f.write("escaped")
                    print("wrote", p)
                except OSError as e:
                    print("refused", p, type(e).__name__)
            with open("/tmp/work/inside", "w") as f:
                f.write("ok")
            print("wrote the workdir")
            """;
        var runner = Runner(o => o.ReadOnlyPaths.Add("/etc"));
        var work = runner.CreateWorkDirectory($"run-{_id}");

        var (result, output) = await RunAsync(runner, work, ["python3", "-c", script]);

        Assert.Equal(SandboxEnd.Exited, result.End);
        Assert.Contains("wrote the workdir", output, StringComparison.Ordinal);
        Assert.DoesNotContain("wrote /", output, StringComparison.Ordinal);
        foreach (var target in targets)
        {
            Assert.Contains($"refused {Path.Join(target, name)}", output, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Join(target, name)), $"{target} was written on the host");
        }

        Assert.True(File.Exists(Path.Combine(work, "inside")));
    }

    [RootFact]
    public async Task RunAsync_RootOnlyFileInReadOnlyPath_IsVisibleButUnreadable()
    {
        var keys = CreateHostDirectory("keys");
        var key = Path.Combine(keys, "edge.key");
        await File.WriteAllTextAsync(key, "PRIVATE-KEY-MATERIAL");
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var script = $$"""
            import os
            print("visible" if os.path.exists("{{key}}") else "absent")
            try:
                print(open("{{key}}").read())
            except OSError as e:
                print("unreadable", type(e).__name__)
            """;

        var (result, output) = await RunAsync(Runner(o => o.ReadOnlyPaths.Add(keys)), null, ["python3", "-c", script]);

        Assert.Equal(SandboxEnd.Exited, result.End);
        Assert.Contains("visible", output, StringComparison.Ordinal);
        Assert.Contains("unreadable PermissionError", output, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE-KEY-MATERIAL", output, StringComparison.Ordinal);
    }

    [RootFact]
    public async Task RunAsync_EtcShadow_AbsentByDefaultAndUnreadableWithEtcMounted()
    {
        const string Script = """
            try:
                open("/etc/shadow").read()
                print("read the shadow file")
            except OSError as e:
                print("shadow", type(e).__name__)
            """;

        var (byDefault, defaultOutput) = await RunAsync(Runner(), null, ["python3", "-c", Script]);
        var (withEtc, etcOutput) = await RunAsync(Runner(o => o.ReadOnlyPaths.Add("/etc")), null, ["python3", "-c", Script]);

        Assert.Equal(SandboxEnd.Exited, byDefault.End);
        Assert.Contains("shadow FileNotFoundError", defaultOutput, StringComparison.Ordinal);
        Assert.Equal(SandboxEnd.Exited, withEtc.End);
        Assert.Contains("shadow PermissionError", etcOutput, StringComparison.Ordinal);
    }

    [RootFact]
    public async Task RunAsync_ForkingPastProcessLimit_IsRefusedByTheKernel()
    {
        var marker = Marker();
        var script = $$"""
            import os, sys, time
            forked = 0
            try:
                while forked < 1000:
                    if os.fork() == 0:
                        time.sleep(600)
                        os._exit(0)
                    forked += 1
                print("forked all", forked)
            except OSError as e:
                print("refused after", forked, type(e).__name__)
            sys.stdout.flush()
            os._exit(0)
            """;
        var runId = $"run-{_id}";

        var (result, output) = await RunAsync(Runner(), null, ["python3", "-c", script, marker], Limits() with { Processes = 32 }, runId: runId);

        Assert.Equal(SandboxEnd.Exited, result.End);
        Assert.Contains("refused after", output, StringComparison.Ordinal);
        Assert.Contains("BlockingIOError", output, StringComparison.Ordinal);
        var forked = int.Parse(output.Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(forked, 1, 31);
        // The sleeping children outlived the parent inside; the run's teardown must not leave them on the host.
        AssertNothingLeft(runId, marker);
    }

    [RootFact]
    public async Task RunAsync_ForkBomb_IsContainedUntilTheWallLimitAndLeavesNothing()
    {
        // Every process forks for ever and shrugs off the refusals: only the pids cap holds it, only the teardown ends it.
        const string Script = """
            import os
            print("armed", flush=True)
            while True:
                try:
                    os.fork()
                except OSError:
                    pass
            """;
        var marker = Marker();
        var runId = $"run-{_id}";
        var runner = Runner();
        var work = runner.CreateWorkDirectory(runId);
        var armed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var request = new SandboxRequest(runId, ["python3", "-c", Script, marker], new Dictionary<string, string>(), work,
            Limits() with { Wall = TimeSpan.FromSeconds(3), Processes = 64 });

        var run = runner.RunAsync(request, _ =>
        {
            armed.TrySetResult();
            return ValueTask.CompletedTask;
        }, CancellationToken.None);
        await Task.WhenAny(armed.Task, run);
        Assert.True(armed.Task.IsCompleted, "the bomb never started");
        // With the bomb at full strength, the host can still start a process.
        var during = await HostCanStartProcessAsync();
        var result = await run;

        Assert.Equal(SandboxEnd.TimedOut, result.End);
        Assert.Equal(0, during);
        Assert.Equal(0, await HostCanStartProcessAsync());
        AssertNothingLeft(runId, marker);
    }

    [RootFact]
    public async Task RunAsync_MemoryBomb_IsKilledAtTheMemoryLimit()
    {
        const string Script = """
            chunks = []
            for i in range(128):
                chunks.append(b"x" * (16 << 20))
                print("allocated", (i + 1) * 16, flush=True)
            print("allocated everything")
            """;

        var (result, output) = await RunAsync(Runner(), null, ["python3", "-c", Script], Limits() with { MemoryBytes = 256 * MiB });

        Assert.Equal(SandboxEnd.Exited, result.End);
        // SIGKILL from the kernel's OOM killer at the cgroup's limit (bwrap reports 128 + signal), not a MemoryError at
        // the larger address-space limit, nor the whole 2 GB.
        Assert.Equal(128 + 9, result.ExitCode);
        Assert.DoesNotContain("allocated everything", output, StringComparison.Ordinal);
        var reached = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => int.Parse(l.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture)).Max();
        Assert.InRange(reached, 16, 256);
        Assert.Equal(0, await HostCanStartProcessAsync());
    }

    [RootFact]
    public async Task RunAsync_SleepPastWallLimit_TimesOutAndLeavesNothing()
    {
        var marker = Marker();
        var runId = $"run-{_id}";

        var (result, _) = await RunAsync(Runner(), null, ["sleep", $"600.{marker[^8..]}"], Limits() with { Wall = TimeSpan.FromSeconds(2) }, runId: runId);

        Assert.Equal(SandboxEnd.TimedOut, result.End);
        Assert.Null(result.ExitCode);
        AssertNothingLeft(runId, $"600.{marker[^8..]}");
    }

    [RootFact]
    public async Task RunAsync_OutputPastLimit_PassesExactlyTheLimitAndEndsOutputLimit()
    {
        var runner = Runner();
        var work = runner.CreateWorkDirectory($"run-{_id}");
        long passed = 0;
        var request = new SandboxRequest($"run-{_id}", ["head", "-c", "1000000000", "/dev/zero"], new Dictionary<string, string>(), work,
            Limits() with { OutputBytes = MiB });

        var result = await runner.RunAsync(request, chunk =>
        {
            Assert.True(chunk.Span.IndexOfAnyExcept((byte)0) < 0);
            passed += chunk.Length;
            return ValueTask.CompletedTask;
        }, CancellationToken.None);

        Assert.Equal(SandboxEnd.OutputLimit, result.End);
        Assert.Equal(MiB, passed);
        Assert.Equal(MiB, result.OutputBytes);
        Assert.Null(result.ExitCode);
    }

    [RootFact]
    public async Task RunAsync_SetuidRootBinary_GivesNoPrivilege()
    {
        var tools = CreateHostDirectory("setuid");
        var id = Path.Combine(tools, "id");
        File.Copy("/usr/bin/id", id);
        File.SetUnixFileMode(id, UnixFileMode.SetUser | UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        Assert.True(File.GetUnixFileMode(id).HasFlag(UnixFileMode.SetUser));

        var (result, output) = await RunAsync(Runner(o => o.ReadOnlyPaths.Add(tools)), null, [id, "-u"]);

        Assert.True(result.End == SandboxEnd.Exited, result.Error);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("65534", output.Trim());
    }

    [RootFact]
    public async Task RunAsync_Cancelled_EndsCancelledAndLeavesNothing()
    {
        var marker = Marker();
        var runId = $"run-{_id}";
        using var cancel = new CancellationTokenSource();
        var runner = Runner();
        var work = runner.CreateWorkDirectory(runId);
        var request = new SandboxRequest(runId, ["/bin/sh", "-c", "echo started; sleep 600", marker], new Dictionary<string, string>(), work, Limits());

        // Cancelled once the command is surely running.
        var result = await runner.RunAsync(request, _ => new ValueTask(cancel.CancelAsync()), cancel.Token);

        Assert.Equal(SandboxEnd.Cancelled, result.End);
        Assert.Null(result.ExitCode);
        AssertNothingLeft(runId, marker);
    }

    [RootFact]
    public async Task RunAsync_RequestItCannotRun_EndsStartFailedWithTheReason()
    {
        var runner = Runner();
        var work = runner.CreateWorkDirectory($"run-{_id}");

        var badName = await runner.RunAsync(Request(work, new Dictionary<string, string> { ["BAD-NAME"] = "x" }), _ => ValueTask.CompletedTask, CancellationToken.None);
        var home = await runner.RunAsync(Request(work, new Dictionary<string, string> { ["HOME"] = "/" }), _ => ValueTask.CompletedTask, CancellationToken.None);
        var elsewhere = await runner.RunAsync(Request("/tmp", new Dictionary<string, string>()), _ => ValueTask.CompletedTask, CancellationToken.None);
        var missing = await runner.RunAsync(Request(work, new Dictionary<string, string>()) with { Argv = ["/no/such/command"] }, _ => ValueTask.CompletedTask, CancellationToken.None);

        Assert.Equal(SandboxEnd.StartFailed, badName.End);
        Assert.Contains("BAD-NAME", badName.Error, StringComparison.Ordinal);
        Assert.Equal(SandboxEnd.StartFailed, home.End);
        Assert.Contains("HOME", home.Error, StringComparison.Ordinal);
        Assert.Equal(SandboxEnd.StartFailed, elsewhere.End);
        Assert.Contains("work directory", elsewhere.Error, StringComparison.Ordinal);
        // bwrap itself could not exec it: its message comes back in the error.
        Assert.Equal(SandboxEnd.StartFailed, missing.End);
        Assert.Contains("/no/such/command", missing.Error, StringComparison.Ordinal);

        SandboxRequest Request(string directory, Dictionary<string, string> environment) =>
            new($"run-{_id}", ["true"], environment, directory, Limits());
    }

    [RootFact]
    public async Task RunAsync_ConcurrentRuns_EachGetsItsOwnOutputAndExitCode()
    {
        var runner = Runner(o => o.MaxConcurrentRuns = 2);
        var runIds = Enumerable.Range(0, 5).Select(i => $"run-{_id}-{i}").ToList();

        var results = await Task.WhenAll(runIds.Select((runId, i) =>
            RunAsync(runner, null, ["/bin/sh", "-c", $"echo run {i}; exit {10 + i}"], runId: runId)));

        for (var i = 0; i < results.Length; i++)
        {
            Assert.True(results[i].Result.End == SandboxEnd.Exited, results[i].Result.Error);
            Assert.Equal(10 + i, results[i].Result.ExitCode);
            Assert.Equal($"run {i}\n", results[i].Output);
            AssertNothingLeft(runIds[i], runIds[i]);
        }
    }

    [RootFact]
    public async Task RunAsync_CalledFromAThreadThatEndsDuringTheRun_KeepsRunning()
    {
        // The chain dies with its parent (so that it never outlives the silo), and for the kernel the parent is the
        // thread that forked it: the run must not depend on the caller's thread living on.
        var runner = Runner();
        var work = runner.CreateWorkDirectory($"run-{_id}");
        var request = new SandboxRequest($"run-{_id}", ["/bin/sh", "-c", "echo started; sleep 1; echo survived"], new Dictionary<string, string>(), work, Limits());
        var output = new StringBuilder();
        using var started = new ManualResetEventSlim();
        Task<SandboxResult>? run = null;
        var caller = new Thread(() =>
        {
            run = runner.RunAsync(request, chunk =>
            {
                lock (output)
                {
                    output.Append(Encoding.UTF8.GetString(chunk.Span));
                }

                started.Set();
                return ValueTask.CompletedTask;
            }, CancellationToken.None);
            started.Wait(TimeSpan.FromSeconds(30));
        });

        caller.Start();
        caller.Join();
        var result = await run!;

        Assert.True(result.End == SandboxEnd.Exited, result.Error);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("started\nsurvived\n", output.ToString());
    }

    [RootFact]
    public async Task RunAsync_WithoutUsableCgroups_RunsUnderRlimitsOnly()
    {
        const string Forks = """
            import os, time
            forked = 0
            try:
                while forked < 1000:
                    if os.fork() == 0:
                        time.sleep(600)
                        os._exit(0)
                    forked += 1
                print("forked all", forked)
            except OSError as e:
                print("refused after", forked, type(e).__name__)
            """;
        const string Allocates = """
            chunks = []
            try:
                for i in range(256):
                    chunks.append(b"x" * (16 << 20))
                print("allocated everything")
            except MemoryError:
                print("refused at", len(chunks) * 16)
            """;
        var runner = Runner(o => o.CgroupRoot = $"/nonexistent-cgroup-{_id}");

        var capabilities = runner.Capabilities;
        var (forks, forksOutput) = await RunAsync(runner, null, ["python3", "-c", Forks], Limits() with { Processes = 16 });
        var (allocates, allocatesOutput) = await RunAsync(runner, null, ["python3", "-c", Allocates], Limits() with { MemoryBytes = 256 * MiB });

        Assert.True(capabilities.Available, capabilities.Problem);
        Assert.Equal(["sandbox:bwrap", "sandbox:rlimit"], capabilities.Enforced);
        // RLIMIT_NPROC stands in for the pids cgroup, loosely: it counts all of the uid's tasks (bwrap's two included)
        // with room for the bwrap inits of earlier runs that the host's init has not reaped yet.
        Assert.True(forks.End == SandboxEnd.Exited, forks.Error);
        Assert.Contains("refused after", forksOutput, StringComparison.Ordinal);
        Assert.InRange(int.Parse(forksOutput.Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture), 1, 16 + 2 + 32);
        // RLIMIT_AS stands in for the memory cgroup, at its looser bound (memory + 2 GiB here).
        Assert.True(allocates.End == SandboxEnd.Exited, allocates.Error);
        Assert.Contains("refused at", allocatesOutput, StringComparison.Ordinal);
        Assert.InRange(int.Parse(allocatesOutput.Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture), 256, 256 + 2048);
    }

    [RootFact]
    public async Task CreateWorkDirectory_MakesAPrivateDirectoryOfTheSandboxUserInARootOnlyRoot()
    {
        var work = Runner().CreateWorkDirectory($"run-{_id}");

        Assert.Equal($"{WorkRoot}/run-{_id}", work);
        Assert.Equal("65534:65534 700", await StatAsync(work));
        Assert.Equal("0:0 711", await StatAsync(WorkRoot));
        Assert.Empty(Directory.EnumerateFileSystemEntries(work));
        Assert.Throws<ArgumentException>(() => Runner().CreateWorkDirectory("../escape"));
        Assert.Throws<ArgumentException>(() => Runner().DeleteWorkDirectory("/usr"));
    }

    [RootFact]
    public void CreateWorkDirectory_WorkRootIsASymlink_IsRefused()
    {
        var target = CreateHostDirectory("link-target");
        var before = File.GetUnixFileMode(target);
        Directory.CreateSymbolicLink(WorkRoot, target);
        _cleanup.Insert(0, WorkRoot);

        Assert.Throws<IOException>(() => Runner().CreateWorkDirectory($"run-{_id}"));
        Assert.Equal(before, File.GetUnixFileMode(target));
        Assert.Empty(Directory.EnumerateFileSystemEntries(target));
        File.Delete(WorkRoot);
    }

    [RootFact]
    public async Task DeleteWorkDirectory_LinksTheRunLeft_RemovesTheLinksNotTheirTargets()
    {
        var host = CreateHostDirectory("victim");
        await File.WriteAllTextAsync(Path.Combine(host, "precious"), "keep");
        var runner = Runner(o => o.ReadOnlyPaths.Add(host));
        var work = runner.CreateWorkDirectory($"run-{_id}");
        var (result, _) = await RunAsync(runner, work,
            ["/bin/sh", "-c", $"ln -s {host} escape && mkdir deep && ln -s /usr deep/usr && ln -s {host}/precious file-link"]);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(host, new FileInfo(Path.Combine(work, "escape")).LinkTarget);

        runner.DeleteWorkDirectory(work);

        Assert.False(Path.Exists(work));
        Assert.Equal("keep", await File.ReadAllTextAsync(Path.Combine(host, "precious")));
        Assert.True(File.Exists("/usr/bin/true"));
    }

    [Fact]
    public void AddSandbox_BadConfiguration_StopsAtStartNamingTheKey()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Edge:Sandbox:MaxConcurrentRuns"] = "0" });

        var error = Assert.Throws<StartupConfigurationException>(() => builder.AddSandbox());

        Assert.StartsWith("Edge:Sandbox:MaxConcurrentRuns:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddSandbox_DefaultConfiguration_RegistersOneRunner()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.AddSandbox();
        using var services = builder.Services.BuildServiceProvider();

        Assert.Same(services.GetRequiredService<SandboxRunner>(), services.GetRequiredService<SandboxRunner>());
        Assert.Equal("/var/tmp/outpost-sandbox", services.GetRequiredService<IOptions<SandboxOptions>>().Value.WorkRoot);
    }

    private SandboxRunner Runner(Action<SandboxOptions>? configure = null)
    {
        var options = new SandboxOptions { WorkRoot = WorkRoot, CgroupName = $"outpost-sandbox-test-{_id}" };
        configure?.Invoke(options);
        var runner = new SandboxRunner(Options.Create(options), NullLogger<SandboxRunner>.Instance);
        _runners.Add(runner);
        return runner;
    }

    private static SandboxLimits Limits() =>
        new(Wall: TimeSpan.FromSeconds(60), Cpu: TimeSpan.FromSeconds(60), MemoryBytes: 512 * MiB, Processes: 64,
            OutputBytes: MiB, FileSizeBytes: 64 * MiB, OpenFiles: 256);

    // Runs argv in a work directory of its own (or the one given) and returns the result and the whole output as text.
    private async Task<(SandboxResult Result, string Output)> RunAsync(
        SandboxRunner runner, string? work, IReadOnlyList<string> argv, SandboxLimits? limits = null,
        IReadOnlyDictionary<string, string>? environment = null, string? runId = null)
    {
        runId ??= $"run-{Guid.NewGuid():N}";
        work ??= runner.CreateWorkDirectory(runId);
        var output = new MemoryStream();
        var result = await runner.RunAsync(
            new SandboxRequest(runId, argv, environment ?? new Dictionary<string, string>(), work, limits ?? Limits()),
            chunk =>
            {
                output.Write(chunk.Span);
                return ValueTask.CompletedTask;
            },
            CancellationToken.None);
        Assert.Equal(output.Length, result.OutputBytes);
        return (result, Encoding.UTF8.GetString(output.ToArray()));
    }

    // A root-owned directory the sandbox's uid may enter (as /tmp's own would be), removed after the test.
    private string CreateHostDirectory(string purpose)
    {
        var path = Path.Combine(Path.GetTempPath(), $"outpost-sandbox-{purpose}-{_id}");
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        _cleanup.Add(path);
        return path;
    }

    // A string the test puts on the command line of what it runs, to find any of its processes on the host.
    private string Marker() => $"outpost-marker-{_id}{Random.Shared.Next(10_000_000, 99_999_999)}";

    private static async Task<string> StatAsync(string path)
    {
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%u:%g %a", path]) { RedirectStandardOutput = true })!;
        var text = await stat.StandardOutput.ReadToEndAsync();
        await stat.WaitForExitAsync();
        return text.Trim();
    }

    private static async Task<int> HostCanStartProcessAsync()
    {
        using var process = Process.Start(new ProcessStartInfo("/bin/true") { UseShellExecute = false })!;
        await process.WaitForExitAsync();
        return process.ExitCode;
    }

    // Neither a process of the run (found by a marker on its command line) nor a cgroup named after it is on the host.
    private static void AssertNothingLeft(string runId, string marker)
    {
        var processes = new List<string>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out _))
            {
                continue;
            }

            try
            {
                var commandLine = Encoding.UTF8.GetString(File.ReadAllBytes(Path.Combine(directory, "cmdline"))).Replace('\0', ' ');
                if (commandLine.Contains(marker, StringComparison.Ordinal))
                {
                    processes.Add($"{Path.GetFileName(directory)}: {commandLine}");
                }
            }
            catch (IOException)
            {
                // It exited while the scan went by.
            }
        }

        Assert.Empty(processes);
        var groups = Directory.EnumerateDirectories("/sys/fs/cgroup", runId, new EnumerationOptions
        {
            RecurseSubdirectories = true,
            IgnoreInaccessible = true,
            AttributesToSkip = FileAttributes.ReparsePoint,
        });
        Assert.Empty(groups);
    }
}
