using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Outpost.AuditLog.Storage;
using Outpost.Gateway.AuditLogs;
using Outpost.Grains.AuditLogs;
using Outpost.ServiceDefaults.Clustering;

namespace Outpost.Benchmarks.Audit;

/// <summary>
/// Drives the audit pipeline of a running cluster the way gateways do: the gateway's <see cref="AuditWriter"/>, which
/// stages concurrent events together in the intake (durable: what a request waits for before its response is released)
/// and hands them to the AuditLog grains, whose group commit logs them. Reports durable events per second, the latency
/// of one event's write, and how soon the logs had taken every event (logged per second, from the first event to the
/// intake being empty), at several concurrency levels.
/// </summary>
public static class AuditDriver
{
    private const string Usage = """
        Usage: audit [--concurrency 1,16,256,1024] [--tenants N] [--seconds N] [--warmup N]

          Connects to the cluster ./run.sh started (ConnectionStrings__Outpost must name its database; run.sh prints it
          in .data/logs) and Cluster__Tls__CaFile, __CertificateFile, __KeyFile the gateway's certificate
          (.data/tls/ca.crt, gateway.crt, gateway.key). Each concurrency level runs that many writers, each appending one event at a time.
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        int[] levels = [1, 16, 256, 1024];
        var tenants = 8;
        var seconds = 10;
        var warmup = 2;
        for (var i = 0; i < args.Length; i += 2)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--concurrency" when value is not null:
                    levels = value.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
                    break;
                case "--tenants" when value is not null:
                    tenants = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "--seconds" when value is not null:
                    seconds = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "--warmup" when value is not null:
                    warmup = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                default:
                    await Console.Error.WriteLineAsync($"audit: unknown or incomplete option '{args[i]}'\n\n{Usage}");
                    return 2;
            }
        }

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddOutpostClusterClient();
        using var host = builder.Build();
        await host.StartAsync();
        var cluster = host.Services.GetRequiredService<IClusterClient>();
        var intake = new AuditIntake(host.Services.GetRequiredService<Npgsql.NpgsqlDataSource>());
        var writer = new AuditWriter(
            intake,
            cluster,
            new AuditMetrics(host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()),
            Microsoft.Extensions.Options.Options.Create(new AuditWriterOptions()),
            NullLogger<AuditWriter>.Instance);
        var run = Guid.NewGuid().ToString("N")[..8];

        Console.WriteLine($"# Outpost audit benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {tenants} tenants");
        Console.WriteLine();
        Console.WriteLine("| writers | events/s durable | write p50 ms | write p99 ms | events/s logged |");
        Console.WriteLine("|--:|--:|--:|--:|--:|");
        foreach (var level in levels)
        {
            await MeasureAsync(writer, run, tenants, level, TimeSpan.FromSeconds(warmup));
            await DrainAsync(cluster, intake, run, tenants);
            var clock = Stopwatch.StartNew();
            var (count, latencies, elapsed) = await MeasureAsync(writer, run, tenants, level, TimeSpan.FromSeconds(seconds));
            await DrainAsync(cluster, intake, run, tenants);
            var logged = clock.Elapsed;
            latencies.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {level} | {count / elapsed.TotalSeconds:F0} | {Percentile(latencies, 0.50):F2} | {Percentile(latencies, 0.99):F2} | {count / logged.TotalSeconds:F0} |"));
        }

        await host.StopAsync();
        return 0;
    }

    private static async Task<(long Count, List<double> Latencies, TimeSpan Elapsed)> MeasureAsync(
        AuditWriter writer, string run, int tenants, int writers, TimeSpan duration)
    {
        var latencies = new List<double>[writers];
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var own = latencies[w] = new List<double>(1 << 14);
            var tenant = $"bench-{run}-{w % tenants}";
            while (clock.Elapsed < duration)
            {
                var started = Stopwatch.GetTimestamp();
                await writer.AppendAsync(tenant, Event());
                own.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        })));
        var elapsed = clock.Elapsed;
        var all = latencies.SelectMany(l => l).ToList();
        return (all.Count, all, elapsed);
    }

    // Waits until the logs have taken every staged event of the run's tenants (the hand-overs in flight included).
    private static async Task DrainAsync(IClusterClient cluster, AuditIntake intake, string run, int tenants)
    {
        for (var t = 0; t < tenants; t++)
        {
            var tenant = $"bench-{run}-{t}";
            while (await intake.CountAsync(tenant) > 0)
            {
                await cluster.GetGrain<IAuditLogGrain>(tenant).IngestStagedAsync();
            }
        }
    }

    private static AuditEvent Event() => new(
        DateTimeOffset.UtcNow, "bench-user", "POST /v1/embeddings", AuditEvent.Allowed, "edge:dev-pi-1",
        Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()), ClientId: "bench", SourceAddress: "127.0.0.1", Scopes: "embed:create",
        Rule: "scope:embed:create", Device: "dev-pi-1", Model: "all-MiniLM-L6-v2", CostMicros: 1000, Status: 200, Outcome: "ok");

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];
}
