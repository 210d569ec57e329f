using Outpost.EdgeSilo.Tests.Inference.Onnx;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Outpost.EdgeSilo.Inference;
using Outpost.Grains.Inference;
using Xunit;

namespace Outpost.EdgeSilo.Tests.Inference;

/// <summary>The device's embedding queue over the real model: batching, isolation, limits and cancellation.</summary>
public sealed class EmbeddingQueueTests(OnnxEmbeddingBackendTests.BuiltInModel model)
    : IClassFixture<OnnxEmbeddingBackendTests.BuiltInModel>, IAsyncLifetime
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly List<EmbeddingQueue> _queues = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var queue in _queues)
        {
            await queue.DisposeAsync();
        }

        await _services.DisposeAsync();
    }

    [Fact]
    public async Task EnqueueAsync_ManyConcurrentRequests_EachGetsExactlyItsOwnVectors()
    {
        var queue = Create(new InferenceQueueOptions { MaxBatchSize = 16 });
        var requests = Enumerable.Range(0, 60)
            .Select(i => Enumerable.Range(0, 1 + (i % 4)).Select(j => $"request {i} text {j}: {new string('x', (i * 7 + j) % 40)} end").ToList())
            .ToList();

        var results = await Task.WhenAll(requests.Select(texts => queue.EnqueueAsync(texts, CancellationToken.None)));

        for (var i = 0; i < requests.Count; i++)
        {
            Assert.Equal(requests[i].Count, results[i].Length);
            for (var j = 0; j < requests[i].Count; j++)
            {
                AssertClose(model.Backend.Embed([requests[i][j]])[0], results[i][j]);
            }
        }
    }

    [Fact]
    public async Task EnqueueAsync_WhileModelBusy_LaterRequestsShareABatch()
    {
        var queue = Create(new InferenceQueueOptions { MaxBatchSize = 64 });
        var busy = queue.EnqueueAsync(Texts("busy", 64), CancellationToken.None);
        var waiting = Enumerable.Range(0, 10).Select(i => queue.EnqueueAsync([$"waiting {i}"], CancellationToken.None)).ToList();

        await busy;
        await Task.WhenAll(waiting);

        // The ten single-text requests queued behind a full batch ran together, not one at a time.
        Assert.Equal(10, queue.LastBatchSize);
    }

    [Fact]
    public async Task EnqueueAsync_OneTenantsBurst_AnotherTenantsRequestRunsInTheNextBatch()
    {
        var queue = Create(new InferenceQueueOptions { MaxBatchSize = 8 });
        var busy = queue.EnqueueAsync("burst", Texts("busy", 8), CancellationToken.None);
        var finished = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var burst = Enumerable.Range(0, 40)
            .Select(i => queue.EnqueueAsync("burst", [$"burst {i}"], CancellationToken.None).ContinueWith(_ => finished.Enqueue("burst"), TaskScheduler.Default))
            .ToList();
        var other = queue.EnqueueAsync("other", ["a request of another tenant"], CancellationToken.None)
            .ContinueWith(_ => finished.Enqueue("other"), TaskScheduler.Default);

        await busy;
        await Task.WhenAll(burst.Append(other));

        // FIFO would put it behind all 40 (five batches); taking turns puts it in the first batch after the busy one.
        var position = finished.ToList().IndexOf("other");
        Assert.InRange(position, 0, 8);
    }

    [Fact]
    public async Task EnqueueAsync_OneTenantAtItsShare_IsRefusedWhileAnotherStillGetsIn()
    {
        var queue = Create(new InferenceQueueOptions { MaxBatchSize = 64, MaxEmbeddingQueueDepth = 100 });
        var running = queue.EnqueueAsync("burst", Texts("running", 64), CancellationToken.None);
        while (queue.Depth > 0)
        {
            await Task.Delay(1);
        }

        var waiting = queue.EnqueueAsync("burst", Texts("waiting", 70), CancellationToken.None);
        var error = Assert.Throws<InferenceRejectedException>(() => { _ = queue.EnqueueAsync("burst", Texts("over share", 6), CancellationToken.None); });
        var other = queue.EnqueueAsync("other", Texts("other", 20), CancellationToken.None);

        Assert.Equal(InferenceRejection.QueueFull, error.Reason);
        Assert.Contains("share", error.Message, StringComparison.Ordinal);
        Assert.Equal(20, (await other).Length);
        await Task.WhenAll(running, waiting);
    }

    [Fact]
    public async Task EnqueueAsync_QueueFull_RejectsAtOnceWithRetryHint()
    {
        var queue = Create(new InferenceQueueOptions { MaxBatchSize = 64, MaxEmbeddingQueueDepth = 100 });
        var running = queue.EnqueueAsync(Texts("running", 64), CancellationToken.None);

        // Once the model has the first batch (tens of milliseconds of work), 64 texts fit in line and 64 more do not.
        while (queue.Depth > 0)
        {
            await Task.Delay(1);
        }

        var waiting = queue.EnqueueAsync(Texts("waiting", 64), CancellationToken.None);
        var error = Assert.Throws<InferenceRejectedException>(() => { _ = queue.EnqueueAsync(Texts("refused", 64), CancellationToken.None); });

        Assert.Equal(InferenceRejection.QueueFull, error.Reason);
        Assert.True(error.RetryAfter > TimeSpan.Zero);
        Assert.Equal(64, (await running).Length);
        Assert.Equal(64, (await waiting).Length);
    }

    [Fact]
    public async Task EnqueueAsync_CancelledWhileWaiting_LeavesTheQueue()
    {
        var queue = Create(new InferenceQueueOptions { MaxBatchSize = 64 });
        var running = queue.EnqueueAsync(Texts("running", 64), CancellationToken.None);
        using var cancellation = new CancellationTokenSource();
        var cancelled = queue.EnqueueAsync(Texts("cancelled", 64), cancellation.Token);
        var depthBefore = queue.Depth;

        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.True(queue.Depth <= depthBefore - 64, $"depth {queue.Depth} did not drop by 64 from {depthBefore}");
        await running;
        var after = await queue.EnqueueAsync(["after the cancellation"], CancellationToken.None);
        AssertClose(model.Backend.Embed(["after the cancellation"])[0], after[0]);
        Assert.Equal(0, queue.Depth);
    }

    [Fact]
    public async Task EnqueueAsync_RequestLargerThanBatch_IsSplitAndKeepsOrder()
    {
        var queue = Create(new InferenceQueueOptions { MaxBatchSize = 8 });
        var texts = Texts("large", 29);

        var vectors = await queue.EnqueueAsync(texts, CancellationToken.None);

        Assert.Equal(29, vectors.Length);
        AssertClose(model.Backend.Embed([texts[0]])[0], vectors[0]);
        AssertClose(model.Backend.Embed([texts[28]])[0], vectors[28]);
    }

    private EmbeddingQueue Create(InferenceQueueOptions options)
    {
        var queue = new EmbeddingQueue(model.Backend, options, new InferenceMetrics(_services.GetRequiredService<IMeterFactory>()), NullLogger<EmbeddingQueue>.Instance);
        _queues.Add(queue);
        return queue;
    }

    private static List<string> Texts(string tag, int count) =>
        Enumerable.Range(0, count).Select(i => $"{tag} sentence number {i} about the edge device and its queue").ToList();

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i], 1e-5f);
        }
    }
}
