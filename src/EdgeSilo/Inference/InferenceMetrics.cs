using System.Diagnostics.Metrics;

namespace Outpost.EdgeSilo.Inference;

/// <summary>The device's inference instruments, on the <c>Outpost.Edge</c> meter (OpenTelemetry, dotnet-counters).</summary>
public sealed class InferenceMetrics
{
    public const string MeterName = "Outpost.Edge";

    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _batchDuration;
    private readonly Histogram<double> _requestLatency;
    private readonly Counter<long> _tokens;
    private readonly Counter<long> _rejected;

    public InferenceMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _batchSize = meter.CreateHistogram<int>("outpost.edge.embedding.batch_size", "{text}", "Texts per model run.");
        _batchDuration = meter.CreateHistogram<double>("outpost.edge.embedding.batch_duration", "ms", "Time the model took per batch.");
        _requestLatency = meter.CreateHistogram<double>("outpost.edge.request.latency", "ms", "Time from enqueue to result per request.");
        _tokens = meter.CreateCounter<long>("outpost.edge.tokens", "{token}", "Tokens processed.");
        _rejected = meter.CreateCounter<long>("outpost.edge.rejected", "{request}", "Requests refused because a queue was full.");
        Meter = meter;
    }

    public Meter Meter { get; }

    public void BatchCompleted(int size, TimeSpan duration)
    {
        _batchSize.Record(size);
        _batchDuration.Record(duration.TotalMilliseconds);
    }

    public void RequestCompleted(string task, double latencyMs) =>
        _requestLatency.Record(latencyMs, new KeyValuePair<string, object?>("task", task));

    public void Tokens(string task, long count) =>
        _tokens.Add(count, new KeyValuePair<string, object?>("task", task));

    public void Rejected(string task) =>
        _rejected.Add(1, new KeyValuePair<string, object?>("task", task));
}
