using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Outpost.EdgeSilo.Tasks.Sandbox;

namespace Outpost.Benchmarks.Sandbox;

/// <summary>
/// What the task sandbox costs to start: <c>/bin/true</c> started directly with <see cref="Process"/>, then through
/// <see cref="SandboxRunner"/> with the default options (bwrap as uid 65534, rlimits, per-run cgroups, teardown), and
/// once more with the run's work directory created and removed around each run. One run at a time, the three kinds
/// taking turns, after a warm-up.
/// </summary>
public static class SandboxStartDriver
{
    private const string Usage = """
        Usage: sandbox [--runs N] [--warmup N]

          Needs root (the sandbox switches to uid 65534 and makes cgroups) and bubblewrap.
          --runs    measured runs of each kind (default 200)
          --warmup  unmeasured runs of each kind first (default 10)
        """;

    private static readonly SandboxLimits Limits = new(
        Wall: TimeSpan.FromSeconds(30), Cpu: TimeSpan.FromSeconds(10), MemoryBytes: 256L << 20, Processes: 64,
        OutputBytes: 1 << 20, FileSizeBytes: 64L << 20, OpenFiles: 256);

    public static async Task<int> RunAsync(string[] args)
    {
        var runs = 200;
        var warmup = 10;
        for (var i = 0; i < args.Length; i += 2)
        {
            var value = i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number > 0
                ? number
                : (int?)null;
            switch (args[i])
            {
                case "--runs" when value is not null:
                    runs = value.Value;
                    break;
                case "--warmup" when value is not null:
                    warmup = value.Value;
                    break;
                default:
                    await Console.Error.WriteLineAsync($"sandbox: unknown or incomplete option '{args[i]}'\n\n{Usage}");
                    return 2;
            }
        }

        using var runner = new SandboxRunner(Options.Create(new SandboxOptions()), NullLogger<SandboxRunner>.Instance);
        var capabilities = runner.Capabilities;
        if (!capabilities.Available)
        {
            await Console.Error.WriteLineAsync($"sandbox: the sandbox is unavailable: {capabilities.Problem}");
            return 1;
        }

        var work = runner.CreateWorkDirectory($"bench-{Environment.ProcessId}");
        try
        {
            var sequence = 0;
            async Task Sandboxed()
            {
                var result = await runner.RunAsync(
                    new SandboxRequest($"bench-{Environment.ProcessId}-{sequence++}", ["/bin/true"], new Dictionary<string, string>(), work, Limits),
                    _ => ValueTask.CompletedTask, CancellationToken.None);
                if (result is not { End: SandboxEnd.Exited, ExitCode: 0 })
                {
                    throw new InvalidOperationException($"a sandboxed /bin/true ended {result.End} ({result.ExitCode}): {result.Error}");
                }
            }

            async Task SandboxedWithWorkDirectory()
            {
                var runId = $"bench-{Environment.ProcessId}-{sequence++}";
                var own = runner.CreateWorkDirectory(runId);
                var result = await runner.RunAsync(
                    new SandboxRequest(runId, ["/bin/true"], new Dictionary<string, string>(), own, Limits),
                    _ => ValueTask.CompletedTask, CancellationToken.None);
                runner.DeleteWorkDirectory(own);
                if (result is not { End: SandboxEnd.Exited, ExitCode: 0 })
                {
                    throw new InvalidOperationException($"a sandboxed /bin/true ended {result.End} ({result.ExitCode}): {result.Error}");
                }
            }

            var timings = await MeasureAsync([DirectAsync, Sandboxed, SandboxedWithWorkDirectory], runs, warmup);
            var (direct, sandboxed, withWork) = (timings[0], timings[1], timings[2]);

            Console.WriteLine($"# Outpost sandbox start benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {runs} runs each");
            Console.WriteLine();
            Console.WriteLine($"Enforced: {string.Join(", ", capabilities.Enforced)}");
            Console.WriteLine();
            Console.WriteLine("| /bin/true | p50 ms | p90 ms | p99 ms |");
            Console.WriteLine("|---|--:|--:|--:|");
            Row("direct (Process)", direct);
            Row("SandboxRunner.RunAsync", sandboxed);
            Row("RunAsync + work directory", withWork);
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"p50 overhead of the sandbox: {Percentile(sandboxed, 0.50) - Percentile(direct, 0.50):F2} ms ({Percentile(withWork, 0.50) - Percentile(direct, 0.50):F2} ms with the work directory)"));
            return 0;
        }
        finally
        {
            runner.DeleteWorkDirectory(work);
        }
    }

    // Redirected like a sandboxed run's, so that the two differ by the sandbox only.
    private static async Task DirectAsync()
    {
        using var process = Process.Start(new ProcessStartInfo("/bin/true")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        process.StandardInput.Close();
        await Task.WhenAll(process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync(), process.WaitForExitAsync());
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"/bin/true exited {process.ExitCode}");
        }
    }

    // The kinds take turns, so that a machine busier at one moment than another weighs on all of them alike.
    private static async Task<List<double>[]> MeasureAsync(Func<Task>[] kinds, int runs, int warmup)
    {
        for (var i = 0; i < warmup; i++)
        {
            foreach (var run in kinds)
            {
                await run();
            }
        }

        var milliseconds = kinds.Select(_ => new List<double>(runs)).ToArray();
        for (var i = 0; i < runs; i++)
        {
            for (var k = 0; k < kinds.Length; k++)
            {
                var started = Stopwatch.GetTimestamp();
                await kinds[k]();
                milliseconds[k].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }

        foreach (var list in milliseconds)
        {
            list.Sort();
        }

        return milliseconds;
    }

    private static void Row(string name, List<double> sorted) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {name} | {Percentile(sorted, 0.50):F2} | {Percentile(sorted, 0.90):F2} | {Percentile(sorted, 0.99):F2} |"));

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];
}
