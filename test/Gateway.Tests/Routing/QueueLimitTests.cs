using System.Net;
using System.Text.Json;
using Outpost.Testing.Cluster;
using Outpost.Testing.Hailo;
using Xunit;

namespace Outpost.Gateway.Tests.Routing;

/// <summary>Bounded device queues: overflow is refused at once with 503 and Retry-After, and what is accepted is right.</summary>
public sealed class QueueLimitTests(QueueLimitClusterFixture fixture) : IClassFixture<QueueLimitClusterFixture>, IAsyncLifetime
{
    private const string LlmModel = FakeHailoOllamaServer.DefaultModel;

    public async Task InitializeAsync()
    {
        await InferenceApi.WaitUntilServedAsync(fixture.Cluster.Http, "/v1/embeddings", InferenceApi.WarmUpEmbedding());
        await InferenceApi.WaitUntilServedAsync(fixture.Cluster.Http, "/v1/infer", GenerateJson("warm up"));
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task CreateEmbeddings_MoreThanQueueHolds_RefusesOverflowWith503AndServesTheRestCorrectly()
    {
        var cluster = fixture.Cluster;
        var id = Guid.NewGuid().ToString("N");
        var requests = Enumerable.Range(0, 100)
            .Select(r => Enumerable.Range(0, 4)
                .Select(t => $"queue {r}.{t} {id}: a long-ish sentence about the limits of a small device, which has to say no sometimes")
                .ToArray())
            .ToList();

        var responses = await Task.WhenAll(requests.Select(texts => InferenceApi.PostEmbeddingsAsync(cluster.Http, texts)));
        try
        {
            var statuses = responses.GroupBy(r => r.StatusCode).ToDictionary(g => g.Key, g => g.Count());
            var summary = string.Join(", ", statuses.Select(s => $"{(int)s.Key}={s.Value}"));
            Assert.True(statuses.Keys.All(s => s is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable), $"Statuses: {summary}");
            Assert.True(statuses.ContainsKey(HttpStatusCode.ServiceUnavailable), $"No request was refused; statuses: {summary}");
            Assert.True(statuses.ContainsKey(HttpStatusCode.OK), $"No request was served; statuses: {summary}");

            for (var r = 0; r < responses.Length; r++)
            {
                var response = responses[r];
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    await InferenceApi.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, "devices-busy");
                    AssertRetryAfter(response);
                    continue;
                }

                var reply = await InferenceApi.ReadReplyAsync(response, requests[r].Length);
                Assert.Equal(QueueLimitClusterFixture.DeviceId, reply.Device);
                for (var t = 0; t < requests[r].Length; t++)
                {
                    var alone = await InferenceApi.EmbedOnDeviceAsync(cluster.Client, QueueLimitClusterFixture.DeviceId, requests[r][t]);
                    InferenceApi.AssertClose(alone, reply.Vectors[t], 1e-5, $"request {r} text {t}");
                }
            }
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }

    [Fact]
    public async Task Infer_TenConcurrentGenerations_AllServedOneAtATimeOnTheNpu()
    {
        var hailo = fixture.Hailo;
        hailo.TokenDelay = TimeSpan.FromMilliseconds(5);
        var before = hailo.TotalRequests;
        var prompts = Enumerable.Range(0, 10).Select(i => $"tell me about request number {i} please").ToList();

        var responses = await Task.WhenAll(prompts.Select(p => InferenceApi.PostJsonAsync(fixture.Cluster.Http, "/v1/infer", GenerateJson(p))));
        try
        {
            for (var i = 0; i < responses.Length; i++)
            {
                await AssertGeneratedAsync(responses[i], prompts[i]);
            }
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }

        Assert.True(hailo.TotalRequests - before >= prompts.Count, $"The stand-in saw {hailo.TotalRequests - before} requests.");
        Assert.Equal(1, hailo.MaxConcurrentRequests);
        Assert.Equal(0, hailo.RejectedBusy);
    }

    [Fact]
    public async Task Infer_GenerationsBeyondQueueDepthOne_RefusedWith503WhileNpuRunsOneAtATime()
    {
        await using var hailo = await FakeHailoOllamaServer.StartAsync();
        await using var cluster = await OutpostCluster.StartAsync(fixture.Postgres, new OutpostClusterSettings
        {
            EdgeDevices = [QueueLimitClusterFixture.DeviceId],
            EdgeConfiguration = new Dictionary<string, string?>
            {
                ["Inference:Queue:MaxGenerationQueueDepth"] = "1",
                ["Inference:Hailo:BaseUrl"] = hailo.BaseUrl.ToString(),
            },
            GatewayConfiguration = QueueLimitClusterFixture.LoadGatewayConfiguration,
        });
        await InferenceApi.WaitUntilServedAsync(cluster.Http, "/v1/infer", GenerateJson("warm up"));

        // Slow tokens: while one completion runs and one waits, the other eight find the line full.
        hailo.TokenDelay = TimeSpan.FromMilliseconds(20);
        var prompts = Enumerable.Range(0, 10)
            .Select(i => $"request {i}: write a long and careful answer about queues, devices, patience and the virtue of saying no")
            .ToList();

        var responses = await Task.WhenAll(prompts.Select(p => InferenceApi.PostJsonAsync(cluster.Http, "/v1/infer", GenerateJson(p))));
        try
        {
            var statuses = string.Join(", ", responses.Select(r => (int)r.StatusCode));
            Assert.True(responses.All(r => r.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable), $"Statuses: {statuses}");
            Assert.True(responses.Any(r => r.StatusCode == HttpStatusCode.ServiceUnavailable), $"No request was refused; statuses: {statuses}");
            Assert.True(responses.Any(r => r.StatusCode == HttpStatusCode.OK), $"No request was served; statuses: {statuses}");
            for (var i = 0; i < responses.Length; i++)
            {
                if (responses[i].StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    await InferenceApi.AssertProblemAsync(responses[i], HttpStatusCode.ServiceUnavailable, "devices-busy");
                    AssertRetryAfter(responses[i]);
                }
                else
                {
                    await AssertGeneratedAsync(responses[i], prompts[i]);
                }
            }
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }

        Assert.Equal(1, hailo.MaxConcurrentRequests);
        Assert.Equal(0, hailo.RejectedBusy);
    }

    private static string GenerateJson(string prompt) =>
        JsonSerializer.Serialize(new { task = "generate", payload = new { model = LlmModel, prompt, max_tokens = 64 } });

    private static async Task AssertGeneratedAsync(HttpResponseMessage response, string prompt)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"Expected 200, got {(int)response.StatusCode}: {body}");
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        Assert.Equal("generate", root.GetProperty("task").GetString());
        Assert.Equal(LlmModel, root.GetProperty("model").GetString());
        Assert.Equal(QueueLimitClusterFixture.DeviceId, root.GetProperty("device").GetString());
        Assert.Equal($"{FakeHailoOllamaServer.ReplyPrefix} {prompt}", root.GetProperty("text").GetString());
        Assert.True(root.GetProperty("usage").GetProperty("completion_tokens").GetInt32() > 0, body);
    }

    private static void AssertRetryAfter(HttpResponseMessage response)
    {
        var retryAfter = response.Headers.RetryAfter;
        Assert.NotNull(retryAfter);
        Assert.NotNull(retryAfter.Delta);
        Assert.True(retryAfter.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {retryAfter}");
    }
}
