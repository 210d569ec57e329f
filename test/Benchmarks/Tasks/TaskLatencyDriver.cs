using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Outpost.Grains.TaskRuns;

namespace Outpost.Benchmarks.Tasks;

/// <summary>
/// Remote execution's latencies, in one run: (a) manifest verification in-process (the device's two ECDSA P-256
/// verifications and the parse), (b) against a running system, the time from <c>POST /v1/tasks</c> to the first log line
/// of the task in server-sent events, and to its end, for a unit-test task the development policy runs without approval.
/// </summary>
public static class TaskLatencyDriver
{
    private const string Usage = """
        Usage: tasks [--url URL] [--token-file FILE] [--runs N] [--verify-runs N]

          --url          the gateway (default http://127.0.0.1:8080), started with ./run.sh
          --token-file   a bearer token with code:execute and tasks:read (./run.sh writes .data/cowork.token)
          --runs         tasks to submit one after another (default 30)
          --verify-runs  in-process manifest verifications (default 2000)
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var url = "http://127.0.0.1:8080";
        string? tokenFile = null;
        var runs = 30;
        var verifyRuns = 2000;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--url" when i + 1 < args.Length: url = args[++i]; break;
                case "--token-file" when i + 1 < args.Length: tokenFile = args[++i]; break;
                case "--runs" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var n) && n > 0: runs = n; i++; break;
                case "--verify-runs" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var v) && v > 0: verifyRuns = v; i++; break;
                default:
                    await Console.Error.WriteLineAsync($"tasks: unknown or incomplete option '{args[i]}'\n\n{Usage}");
                    return 2;
            }
        }

        Console.WriteLine($"# Outpost task latency, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores");
        Console.WriteLine();
        Console.WriteLine("| measurement | runs | p50 ms | p90 ms | p99 ms |");
        Console.WriteLine("|---|---|---|---|---|");
        Print("manifest verification (in-process)", MeasureVerification(verifyRuns));
        if (tokenFile is null)
        {
            return 0;
        }

        using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(tokenFile)).Trim());
        var firstLine = new List<double>();
        var ended = new List<double>();
        for (var i = 0; i < runs + 2; i++)
        {
            var (first, end) = await RunOnceAsync(http);
            if (i >= 2)
            {
                // The first two warm the path (JIT, connections, the device's first sandbox).
                firstLine.Add(first);
                ended.Add(end);
            }
        }

        Print("submit to first log line (SSE)", firstLine);
        Print("submit to end event (SSE)", ended);
        return 0;
    }

    private static List<double> MeasureVerification(int runs)
    {
        using var longTerm = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var ephemeral = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var now = DateTimeOffset.UtcNow;
        var manifest = new TaskManifest(TaskManifest.CurrentVersion, "run_bench", "dev", "dev-pi-1", 1, "unit-test", ["python3", "-m", "unittest", "discover"],
            new Dictionary<string, string>(), [new TaskInput("sha256:" + new string('a', 64), ".", true)], ["report.xml"], TaskManifest.SandboxWorkDirectory,
            new TaskLimits(300, 300, 1L << 30, 128, 4 << 20, 64 << 20, 256), TaskRunSpec.NoNetwork, now, now.AddMinutes(5));
        var json = JsonSerializer.Serialize(manifest, TaskSignatures.Json);
        var publicKey = ephemeral.ExportSubjectPublicKeyInfo();
        var longTermKey = longTerm.ExportSubjectPublicKeyInfo();
        var keyId = TaskSignatures.KeyIdOf(longTermKey);
        var signed = new SignedManifest(json, TaskSignatures.Sign(ephemeral, TaskSignatures.ManifestText(json)), publicKey,
            new ManifestEndorsement(keyId, TaskSignatures.Sign(longTerm, TaskSignatures.EndorsementText(manifest.RunId, manifest.Device, publicKey, manifest.ExpiresAt))));
        var keys = new Dictionary<string, byte[]> { [keyId] = longTermKey };
        var samples = new List<double>(runs);
        for (var i = 0; i < runs + 100; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var (verified, refusal) = TaskSignatures.VerifyManifest(signed, keys);
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (verified is null)
            {
                throw new InvalidOperationException(refusal);
            }

            if (i >= 100)
            {
                samples.Add(elapsed);
            }
        }

        return samples;
    }

    private static async Task<(double FirstLine, double End)> RunOnceAsync(HttpClient http)
    {
        var started = Stopwatch.GetTimestamp();
        using var submit = await http.PostAsJsonAsync("/v1/tasks", new { kind = "unit-test", argv = new[] { "python3", "-m", "unittest", "discover", "-s", "." } });
        submit.EnsureSuccessStatusCode();
        var id = (await submit.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/tasks/{id}/logs");
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        double? first = null;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (first is null && line == "event: log")
            {
                first = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
            else if (line == "event: end")
            {
                var end = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                return (first ?? end, end);
            }
        }

        throw new InvalidOperationException($"The log of {id} ended without an end event.");
    }

    private static void Print(string name, List<double> samples)
    {
        samples.Sort();
        double At(double q) => samples[Math.Min(samples.Count - 1, (int)Math.Floor(q * samples.Count))];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {samples.Count} | {At(0.5):F2} | {At(0.9):F2} | {At(0.99):F2} |"));
    }
}
