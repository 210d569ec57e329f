using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Outpost.EdgeSilo.Inference.Onnx;

namespace Outpost.Benchmarks.Load;

/// <summary>
/// Measures, in one run on one machine, (a) ONNX Runtime called in-process, at several batch sizes and one sentence
/// at a time, and (b) the full path: HTTP to the gateway, the device grain's queue, ONNX Runtime on the edge silo, at
/// several concurrency levels with single-sentence requests. Every request's sentence is unique, so the embedding
/// cache never answers and every request reaches a device.
/// </summary>
public static class LoadDriver
{
    // Server-Timing metrics the gateway reported during the measured run, by name (audit, quota).
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, System.Collections.Concurrent.ConcurrentQueue<double>> ServerTimings = new();

    private const string Usage = """
        Usage: load [--url URL] [--token-file FILE] [--model NAME] [--concurrency 1,8,32] [--seconds N] [--warmup N] [--batches 1,8,32,64] [--skip-inproc]

          --url          the gateway (default http://127.0.0.1:8080), started with ./run.sh
          --token-file   a bearer token with embed:create (./run.sh writes .data/cowork.token)
          --model        the embedding model (default all-MiniLM-L6-v2)
          --concurrency  concurrent single-sentence requests, one run per level (default 1,8,32)
          --seconds      measured seconds per run (default 20)
          --warmup       unmeasured seconds before each run (default 3)
          --batches      in-process batch sizes to measure (default 1,8,32,64)
          --skip-inproc  measure only the full path
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        LoadSettings settings;
        try
        {
            settings = LoadSettings.Parse(args);
        }
        catch (FormatException ex)
        {
            await Console.Error.WriteLineAsync($"load: {ex.Message}\n\n{Usage}");
            return 2;
        }

        if (settings.Help)
        {
            Console.WriteLine(Usage);
            return 0;
        }

        Console.WriteLine($"# Outpost embedding benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        Console.WriteLine();
        Console.WriteLine("| path | concurrency / batch | sentences/s | p50 ms | p99 ms | requests | errors |");
        Console.WriteLine("|---|---|---|---|---|---|---|");

        if (!settings.SkipInProcess)
        {
            MeasureInProcess(settings);
        }

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            BaseAddress = settings.Url,
            Timeout = TimeSpan.FromSeconds(60),
        };
        if (settings.Token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", settings.Token);
        }
        foreach (var concurrency in settings.Concurrency)
        {
            await MeasureGatewayAsync(http, settings, concurrency);
        }

        return 0;
    }

    private static void MeasureInProcess(LoadSettings settings)
    {
        using var backend = new OnnxEmbeddingBackend(new OnnxEmbeddingOptions(), NullLogger<OnnxEmbeddingBackend>.Instance);
        var sequence = 0;
        foreach (var batchSize in settings.Batches)
        {
            var latencies = new List<double>();
            var sentences = 0L;
            RunFor(settings.Warmup, () => backend.Embed(Sentences(batchSize, ref sequence, "warm")));
            var clock = Stopwatch.StartNew();
            RunFor(settings.Duration, () =>
            {
                var batch = Sentences(batchSize, ref sequence, "inproc");
                var started = Stopwatch.GetTimestamp();
                backend.Embed(batch);
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                sentences += batchSize;
            });
            Report("in-process ONNX Runtime", $"batch {batchSize}", sentences / clock.Elapsed.TotalSeconds, latencies, 0);
        }

        // One sentence at a time with a 1 ms pause between calls, as requests arrive one after another over the
        // network: ONNX Runtime's threads go idle in between, which back-to-back calls never let them do.
        var paced = new List<double>();
        var pacedClock = Stopwatch.StartNew();
        RunFor(settings.Duration, () =>
        {
            var batch = Sentences(1, ref sequence, "paced");
            var started = Stopwatch.GetTimestamp();
            backend.Embed(batch);
            paced.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            Thread.Sleep(1);
        });
        Report("in-process ONNX Runtime, 1 ms idle between calls", "batch 1", paced.Count / pacedClock.Elapsed.TotalSeconds, paced, 0);
    }

    private static async Task MeasureGatewayAsync(HttpClient http, LoadSettings settings, int concurrency)
    {
        var sequence = 0;
        await RunClientsAsync(http, settings, concurrency, settings.Warmup, null, () => Interlocked.Increment(ref sequence));
        ServerTimings.Clear();

        var latencies = new List<double>[concurrency];
        var errors = new int[concurrency];
        var clock = Stopwatch.StartNew();
        await RunClientsAsync(http, settings, concurrency, settings.Duration, (client, ms, ok) =>
        {
            (latencies[client] ??= []).Add(ms);
            if (!ok)
            {
                errors[client]++;
            }
        }, () => Interlocked.Increment(ref sequence));
        var elapsed = clock.Elapsed.TotalSeconds;
        var all = latencies.Where(l => l is not null).SelectMany(l => l).ToList();
        var failed = errors.Sum();
        Report("HTTP gateway → device grain → ONNX Runtime", $"concurrency {concurrency}", (all.Count - failed) / elapsed, all, failed);
        foreach (var (name, times) in ServerTimings.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            Report($"of which {name} (Server-Timing)", $"concurrency {concurrency}", double.NaN, times.ToList(), 0);
        }

        ServerTimings.Clear();
    }

    private static async Task RunClientsAsync(
        HttpClient http, LoadSettings settings, int concurrency, TimeSpan duration, Action<int, double, bool>? record, Func<int> next)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var clients = Enumerable.Range(0, concurrency).Select(client => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < deadline)
            {
                var body = new { model = settings.Model, input = Sentence(next(), "http") };
                var started = Stopwatch.GetTimestamp();
                bool ok;
                try
                {
                    using var response = await http.PostAsJsonAsync("/v1/embeddings", body);
                    await response.Content.LoadIntoBufferAsync();
                    ok = response.IsSuccessStatusCode;
                    if (record is not null)
                    {
                        RecordServerTimings(response);
                    }
                }
                catch (HttpRequestException)
                {
                    ok = false;
                }

                record?.Invoke(client, Stopwatch.GetElapsedTime(started).TotalMilliseconds, ok);
            }
        }));
        await Task.WhenAll(clients);
    }

    private static void RecordServerTimings(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Server-Timing", out var values))
        {
            return;
        }

        foreach (var metric in values.SelectMany(v => v.Split(',')))
        {
            var parts = metric.Trim().Split(';');
            if (parts.Skip(1).FirstOrDefault(p => p.StartsWith("dur=", StringComparison.Ordinal)) is { } duration
                && double.TryParse(duration[4..], NumberStyles.Float, CultureInfo.InvariantCulture, out var ms))
            {
                ServerTimings.GetOrAdd(parts[0], _ => new()).Enqueue(ms);
            }
        }
    }

    private static void RunFor(TimeSpan duration, Action action)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            action();
        }
    }

    private static void Report(string path, string shape, double perSecond, List<double> latencies, int errors)
    {
        latencies.Sort();
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"| {path} | {shape} | {(double.IsNaN(perSecond) ? "-" : perSecond.ToString("F0", CultureInfo.InvariantCulture))} | {Percentile(latencies, 0.50):F2} | {Percentile(latencies, 0.99):F2} | {latencies.Count} | {errors} |"));
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    /// <summary>Distinguishes this run's sentences from every earlier run's, which the cluster's cache may still hold.</summary>
    private static readonly string RunId = Guid.NewGuid().ToString("N")[..8];

    /// <summary>A short sentence (about a dozen tokens) that no other request uses, so no cache can answer it.</summary>
    private static string Sentence(int n, string tag) =>
        string.Create(CultureInfo.InvariantCulture, $"Request {tag} {RunId} {n}: the build on the office edge device finished in {n % 97} seconds.");

    private static string[] Sentences(int count, ref int sequence, string tag)
    {
        var batch = new string[count];
        for (var i = 0; i < count; i++)
        {
            batch[i] = Sentence(++sequence, tag);
        }

        return batch;
    }
}
