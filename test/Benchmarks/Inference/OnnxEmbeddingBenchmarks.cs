using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Outpost.EdgeSilo.Inference.Onnx;

namespace Outpost.Benchmarks.Inference;

/// <summary>
/// The built-in all-MiniLM-L6-v2 on the CPU, embedding batches of short sentences. Each benchmark counts one operation
/// per sentence, so Mean is the time per sentence and Op/s the sentences per second; a batch's latency is Mean times
/// its size.
/// </summary>
[MemoryDiagnoser]
[OperationsPerSecond]
public class OnnxEmbeddingBenchmarks : IDisposable
{
    private static readonly string[] Sentences =
    [
        "A man is eating food.",
        "The new movie is awesome.",
        "How do I reset my password?",
        "The stock market fell sharply today.",
        "Edge devices embed text locally.",
        "A cat sleeps on the warm windowsill.",
        "Please send me the quarterly report.",
        "The train to Zurich leaves at nine.",
    ];

    private OnnxEmbeddingBackend? _backend;

    [GlobalSetup]
    public void Setup()
    {
        // Threads as the edge silo uses them by default: one per core, no spinning.
        _backend = new OnnxEmbeddingBackend(new OnnxEmbeddingOptions(), NullLogger<OnnxEmbeddingBackend>.Instance);
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _backend?.Dispose();
        _backend = null;
        GC.SuppressFinalize(this);
    }

    [Benchmark(OperationsPerInvoke = 1, Baseline = true)]
    public float[][] Batch1() => _backend!.Embed(Batch(1));

    [Benchmark(OperationsPerInvoke = 8)]
    public float[][] Batch8() => _backend!.Embed(Batch(8));

    [Benchmark(OperationsPerInvoke = 32)]
    public float[][] Batch32() => _backend!.Embed(Batch(32));

    [Benchmark(OperationsPerInvoke = 64)]
    public float[][] Batch64() => _backend!.Embed(Batch(64));

    private static string[] Batch(int size)
    {
        var batch = new string[size];
        for (var i = 0; i < size; i++)
        {
            batch[i] = Sentences[i % Sentences.Length];
        }

        return batch;
    }
}
