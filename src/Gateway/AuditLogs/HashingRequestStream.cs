using System.Buffers;
using System.Security.Cryptography;

namespace Outpost.Gateway.AuditLogs;

/// <summary>
/// The request body as the endpoint reads it, hashed on the way (and kept, for tenants that store bodies). Reading
/// stays streaming: nothing is buffered for the hash.
/// </summary>
internal sealed class HashingRequestStream(Stream inner, AuditFeature feature) : Stream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private MemoryStream? _copy;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>
    /// With <paramref name="drain"/>, reads what the endpoint left unread (bounded by the request size limits); then
    /// returns the digest and body of what was read. A refused request is not drained: its digest covers what arrived
    /// before the refusal.
    /// </summary>
    public async Task<(byte[] Digest, byte[]? Body)> FinishAsync(bool drain, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (drain && await ReadAsync(buffer, cancellationToken) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is IOException or BadHttpRequestException or OperationCanceledException or InvalidOperationException)
        {
            // Too large, cut off or already consumed elsewhere: the digest covers what arrived.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return (_hash.GetHashAndReset(), _copy?.ToArray());
    }

    public override int Read(byte[] buffer, int offset, int count) => Observe(buffer.AsSpan(offset, inner.Read(buffer, offset, count)));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        return Observe(buffer.Span[..read]);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
            _copy?.Dispose();
        }

        base.Dispose(disposing);
    }

    private int Observe(ReadOnlySpan<byte> read)
    {
        _hash.AppendData(read);
        if (feature.StoreBodies && read.Length > 0)
        {
            _copy ??= new MemoryStream();
            _copy.Write(read);
        }

        return read.Length;
    }
}
