using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Outpost.EdgeSilo.Inference;
using Outpost.Grains.EdgeDevices;
using Outpost.Grains.Inference;
using Xunit;

namespace Outpost.EdgeSilo.Tests.Inference;

/// <summary>The LLM line's share rule: one tenant's burst fills at most half of it.</summary>
public sealed class GenerationQueueTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    [Fact]
    public async Task RunAsync_OneTenantAtHalfTheLine_IsRefusedWhileAnotherTenantStillGetsIn()
    {
        var backend = new HeldBackend();
        using var queue = new GenerationQueue(
            backend, new InferenceQueueOptions { MaxGenerationQueueDepth = 3 }, new InferenceMetrics(_services.GetRequiredService<IMeterFactory>()));
        // Four places in all (three waiting, one running): a tenant may hold two.
        var first = Drain(queue, "burst");
        var second = Drain(queue, "burst");
        await backend.Started.Task;

        var refused = await Assert.ThrowsAsync<InferenceRejectedException>(() => Drain(queue, "burst"));
        var other = Drain(queue, "other");
        backend.Release.SetResult();

        Assert.Equal(InferenceRejection.QueueFull, refused.Reason);
        Assert.Contains("share", refused.Message, StringComparison.Ordinal);
        await Task.WhenAll(first, second, other);
        Assert.Equal(0, queue.Depth);
    }

    public void Dispose() => _services.Dispose();

    private static async Task Drain(GenerationQueue queue, string tenant)
    {
        await foreach (var _ in queue.RunAsync(new GenerationRequest("m", [], 8, Tenant: tenant), CancellationToken.None))
        {
        }
    }

    /// <summary>A backend whose completions wait until released, so the line fills.</summary>
    private sealed class HeldBackend : IGenerationBackend
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Name => "held";

        public IReadOnlyList<DeviceModel> Models => [];

        public int MaxConcurrency => 1;

        public Task RefreshModelsAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public async IAsyncEnumerable<GenerationChunk> GenerateAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            Started.TrySetResult();
            await Release.Task.WaitAsync(cancellationToken);
            yield return new GenerationChunk("done", true, 1, 1, "end_turn");
        }
    }
}
