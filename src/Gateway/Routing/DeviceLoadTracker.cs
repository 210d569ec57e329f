namespace Outpost.Gateway.Routing;

/// <summary>What this gateway knows about one device's load: its calls in flight, recent latency, and a penalty after a failure.</summary>
public sealed class DeviceLoadTracker
{
    private int _inFlight;
    private double _latencyMs = 1;
    private long _penalizedUntilTicks;

    public int InFlight => Volatile.Read(ref _inFlight);

    public void Begin() => Interlocked.Increment(ref _inFlight);

    public void End() => Interlocked.Decrement(ref _inFlight);

    /// <summary>A call succeeded: its latency joins the moving average, and any penalty ends.</summary>
    public void Succeeded(TimeSpan elapsed)
    {
        Volatile.Write(ref _latencyMs, (0.9 * Volatile.Read(ref _latencyMs)) + (0.1 * elapsed.TotalMilliseconds));
        Volatile.Write(ref _penalizedUntilTicks, 0);
    }

    public void Penalize(DateTimeOffset until) => Volatile.Write(ref _penalizedUntilTicks, until.UtcTicks);

    public bool IsPenalized(DateTimeOffset now) => Volatile.Read(ref _penalizedUntilTicks) > now.UtcTicks;

    /// <summary>Expected wait: work ahead of a new request (this gateway's and a quarter of the reported queue) times how long one takes.</summary>
    public double Score(Outpost.Grains.Inference.DeviceLoad? reported) =>
        (Volatile.Read(ref _inFlight) + 1 + (0.25 * (reported?.EmbeddingQueueDepth ?? 0))) * Math.Max(0.5, Volatile.Read(ref _latencyMs));
}
