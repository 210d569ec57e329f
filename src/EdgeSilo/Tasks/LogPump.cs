using System.Buffers;
using System.Security.Cryptography;
using Outpost.Grains.TaskRuns;

namespace Outpost.EdgeSilo.Tasks;

/// <summary>
/// A run's log on its way to the control plane: kept whole here (the sandbox caps it) and sent in chunks at an interval,
/// each at the offset the grain last asked for, so that a grain that lost its copy (a control silo restart) is sent
/// everything again.
/// </summary>
internal sealed class LogPump(ITaskRunExecutionGrain run, string device, TimeSpan interval) : IDisposable
{
    private const int MaxChunk = 256 * 1024;
    private readonly ArrayBufferWriter<byte> _log = new();
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _firstOutput = new(0, 1);
    private long _sent;

    public long Length
    {
        get
        {
            lock (_gate)
            {
                return _log.WrittenCount;
            }
        }
    }

    public ValueTask AppendAsync(ReadOnlyMemory<byte> data)
    {
        bool first;
        lock (_gate)
        {
            first = _log.WrittenCount == 0 && data.Length > 0;
            _log.Write(data.Span);
        }

        if (first)
        {
            // The first line goes out at once (someone may be watching for it); the rest at the interval.
            _firstOutput.Release();
        }

        return ValueTask.CompletedTask;
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        while (!linked.IsCancellationRequested)
        {
            try
            {
                await _firstOutput.WaitAsync(interval, linked.Token);
                await SendOnceAsync();
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The final flush retries until delivered; a missed interval only delays a follower of the log.
            }
        }
    }

    public async Task StopAsync(Task pump)
    {
        await _stop.CancelAsync();
        await pump;
    }

    public void Dispose()
    {
        _stop.Dispose();
        _firstOutput.Dispose();
    }

    public async Task FlushAsync(Func<Func<Task<long>>, Task<long>> deliver)
    {
        while (_sent < Length)
        {
            await deliver(SendOnceAsync);
        }
    }

    public string Sha256Hex()
    {
        lock (_gate)
        {
            return Convert.ToHexStringLower(SHA256.HashData(_log.WrittenSpan));
        }
    }

    private async Task<long> SendOnceAsync()
    {
        byte[] chunk;
        long at;
        lock (_gate)
        {
            at = _sent;
            var count = (int)Math.Min(_log.WrittenCount - at, MaxChunk);
            if (count <= 0)
            {
                return _sent;
            }

            chunk = _log.WrittenSpan.Slice((int)at, count).ToArray();
        }

        var expected = await run.AppendLogAsync(device, at, chunk);
        lock (_gate)
        {
            // -1: the run has ended there (cancelled); nothing more is wanted.
            _sent = expected < 0 ? _log.WrittenCount : Math.Min(expected, _log.WrittenCount);
        }

        return _sent;
    }
}
