namespace Outpost.EdgeSilo.Tasks.Sandbox;

/// <summary>
/// Reads a run's stdout and stderr at once and passes their chunks, one at a time in arrival order, to the caller's
/// sink, stopping exactly at the output limit: the part of a chunk beyond it is dropped and <see cref="Stopped"/> fires,
/// as it does when the sink throws. Reading goes on to the end of both pipes (what comes then is dropped), so that the
/// run never blocks on a full pipe while it is being killed.
/// </summary>
internal sealed class OutputPump(long limit, Func<ReadOnlyMemory<byte>, ValueTask> onOutput) : IDisposable
{
    private const int ChunkSize = 16 * 1024;
    private const int HeadSize = 1024;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly byte[] _head = new byte[HeadSize];
    private int _headLength;
    private long _passed;
    private volatile bool _abandoned;

    /// <summary>Fires when the limit is exceeded or the sink failed.</summary>
    public CancellationToken Stopped => _stop.Token;

    /// <summary>The bytes passed to the sink.</summary>
    public long PassedBytes => Interlocked.Read(ref _passed);

    /// <summary>Whether the run wrote more than the limit.</summary>
    public bool LimitExceeded { get; private set; }

    /// <summary>The sink's exception, which the run rethrows once it is torn down.</summary>
    public Exception? SinkFailure { get; private set; }

    /// <summary>The first bytes of the output, passed on or not: bwrap's or setpriv's message when the sandbox did not start.</summary>
    public string Head
    {
        get
        {
            lock (_head)
            {
                return System.Text.Encoding.UTF8.GetString(_head, 0, _headLength).Trim();
            }
        }
    }

    /// <summary>Pumps <paramref name="pipe"/> until its end (or until it is closed under it).</summary>
    public async Task PumpAsync(Stream pipe)
    {
        var buffer = new byte[ChunkSize];
        try
        {
            while (true)
            {
                var read = await pipe.ReadAsync(buffer);
                if (read == 0)
                {
                    return;
                }

                await PassAsync(buffer.AsMemory(0, read));
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // The run is over and its pipes were closed while a read was pending.
        }
    }

    /// <summary>Passes nothing more on: the run has returned while a reader was still blocked.</summary>
    public void Abandon() => _abandoned = true;

    public void Dispose()
    {
        _stop.Dispose();
        _gate.Dispose();
    }

    private async Task PassAsync(ReadOnlyMemory<byte> chunk)
    {
        KeepHead(chunk.Span);
        await _gate.WaitAsync();
        try
        {
            if (_stop.IsCancellationRequested || _abandoned)
            {
                return;
            }

            var allowed = (int)Math.Min(chunk.Length, limit - _passed);
            if (allowed > 0)
            {
                Interlocked.Add(ref _passed, allowed);
                await onOutput(chunk[..allowed]);
            }

            if (allowed < chunk.Length)
            {
                LimitExceeded = true;
                await _stop.CancelAsync();
            }
        }
        catch (Exception ex) when (!LimitExceeded)
        {
            SinkFailure = ex;
            await _stop.CancelAsync();
        }
        finally
        {
            _gate.Release();
        }
    }

    private void KeepHead(ReadOnlySpan<byte> chunk)
    {
        lock (_head)
        {
            var take = Math.Min(chunk.Length, HeadSize - _headLength);
            chunk[..take].CopyTo(_head.AsSpan(_headLength));
            _headLength += take;
        }
    }
}
