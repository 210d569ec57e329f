using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Outpost.Testing.Cluster;
using Outpost.Testing.PostgreSql;
using Xunit;
using Xunit.Abstractions;

namespace Outpost.Gateway.Tests.Routing;

/// <summary>An edge silo dies under load: the gateway must finish every request on the device that is left.</summary>
public sealed class FailoverTests(PostgreSqlFixture postgres, ITestOutputHelper output) : IClassFixture<PostgreSqlFixture>
{
    private const int Requests = 400;
    private const int Concurrency = 16;
    private const int KillAfter = 100;

    [Fact]
    public async Task CreateEmbeddings_EdgeProcessKilledUnderLoad_EveryRequestAnsweredOnceAndCorrectlyBySurvivor()
    {
        var clock = Stopwatch.StartNew();
        await using var cluster = await OutpostCluster.StartAsync(postgres.Server, new OutpostClusterSettings
        {
            EdgeDevices = ["dev-pi-1"],

            // Every request must reach a device, or a cached answer could hide a lost one.
            GatewayConfiguration = new Dictionary<string, string?>(ClusterScenario.NoRateLimit) { ["Embeddings:Cache:Enabled"] = "false" },
        });
        await using var victim = await cluster.StartEdgeSiloProcessAsync("dev-pi-2");
        await WaitUntilBothDevicesServeAsync(cluster);
        output.WriteLine($"{clock.Elapsed}: cluster up, both devices serving");

        var id = Guid.NewGuid().ToString("N");
        var results = new ConcurrentDictionary<int, Outcome>();
        var completed = 0;
        var killed = 0;
        var reachedKillPoint = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var killer = Task.Run(async () =>
        {
            await reachedKillPoint.Task;
            await victim.KillAsync();
            Volatile.Write(ref killed, 1);
            output.WriteLine($"{clock.Elapsed}: dev-pi-2 killed");
        });

        await Parallel.ForEachAsync(
            Enumerable.Range(0, Requests),
            new ParallelOptions { MaxDegreeOfParallelism = Concurrency },
            async (i, _) =>
            {
                var text = $"failover {i} {id}: the quick brown fox jumps over the lazy dog";
                var startedAfterKill = Volatile.Read(ref killed) == 1;
                results[i] = await SendAsync(cluster.Http, text, startedAfterKill);
                if (Interlocked.Increment(ref completed) == KillAfter)
                {
                    reachedKillPoint.SetResult();
                }
            });
        await killer;
        var slow = results.Values.Where(r => r.Elapsed > TimeSpan.FromSeconds(5)).ToList();
        output.WriteLine($"{clock.Elapsed}: load done; slowest request {results.Values.Max(r => r.Elapsed)}; {slow.Count} took over 5 s ({string.Join(", ", slow.Select(r => $"{r.Elapsed.TotalSeconds:F1} s on {r.Device}"))})");

        Assert.True(victim.HasExited);
        Assert.Equal(Requests, results.Count);
        var failures = results.Where(r => r.Value.Status != HttpStatusCode.OK).Select(r => $"#{r.Key}: {(int)r.Value.Status} {r.Value.Error}").ToList();
        Assert.True(failures.Count == 0, $"{failures.Count} requests failed:\n{string.Join('\n', failures.Take(20))}");

        // The kill happened mid-load: dev-pi-2 served before it, and requests were still being sent after it.
        Assert.Contains(results.Values, r => r.Device == "dev-pi-2");
        var afterKill = results.Values.Where(r => r.StartedAfterKill).ToList();
        Assert.NotEmpty(afterKill);
        Assert.All(afterKill, r => Assert.Equal("dev-pi-1", r.Device));

        output.WriteLine($"{clock.Elapsed}: dev-pi-2 served {results.Values.Count(r => r.Device == "dev-pi-2")}, {afterKill.Count} requests started after the kill");
        foreach (var (i, outcome) in results.OrderBy(r => r.Key))
        {
            var survivor = await InferenceApi.EmbedOnDeviceAsync(cluster.Client, "dev-pi-1", outcome.Text);
            InferenceApi.AssertClose(survivor, outcome.Vector!, 1e-5, $"request {i} (served by {outcome.Device})");
        }

        output.WriteLine($"{clock.Elapsed}: vectors checked");
    }

    private static async Task<Outcome> SendAsync(HttpClient http, string text, bool startedAfterKill)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await InferenceApi.PostEmbeddingsAsync(http, [text]);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return new Outcome(text, response.StatusCode, null, null, startedAfterKill, await response.Content.ReadAsStringAsync(), Stopwatch.GetElapsedTime(started));
            }

            var reply = await InferenceApi.ReadReplyAsync(response, 1);
            return new Outcome(text, response.StatusCode, reply.Device, reply.Vectors[0], startedAfterKill, null, Stopwatch.GetElapsedTime(started));
        }
        catch (HttpRequestException ex)
        {
            return new Outcome(text, 0, null, null, startedAfterKill, ex.ToString(), Stopwatch.GetElapsedTime(started));
        }
    }

    /// <summary>
    /// The gateway learns of a new device from its catalog, refreshed in the background: send small rounds of requests
    /// until both devices have answered, so the load starts with two devices in play.
    /// </summary>
    private static async Task WaitUntilBothDevicesServeAsync(OutpostCluster cluster)
    {
        await InferenceApi.WaitUntilServedAsync(cluster.Http, "/v1/embeddings", InferenceApi.WarmUpEmbedding());
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var round = 0; round < 100 && seen.Count < 2; round++)
        {
            var replies = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
                InferenceApi.EmbedAsync(cluster.Http, ["warm-up " + Guid.NewGuid().ToString("N")])));
            seen.UnionWith(replies.Select(r => r.Device));
            if (seen.Count < 2)
            {
                await Task.Delay(100);
            }
        }

        Assert.True(seen.SetEquals(["dev-pi-1", "dev-pi-2"]), $"Before the load, requests were served by: {string.Join(", ", seen)}");
    }

    private sealed record Outcome(string Text, HttpStatusCode Status, string? Device, float[]? Vector, bool StartedAfterKill, string? Error, TimeSpan Elapsed);
}
