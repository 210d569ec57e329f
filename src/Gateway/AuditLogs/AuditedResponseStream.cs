using System.Security.Cryptography;

namespace Outpost.Gateway.AuditLogs;

/// <summary>
/// The response body, hashed, and held back until the request's audit event is durable: an ordinary response is
/// buffered whole and sent by <see cref="ReleaseAsync"/>. A stream (server-sent events, NDJSON) cannot wait for its
/// end, so it passes through as written, and its event is made durable before the response is completed.
/// </summary>
internal sealed class AuditedResponseStream(Stream inner, HttpResponse response, AuditFeature feature) : Stream
{
    private static readonly string[] StreamingTypes = ["text/event-stream", "application/x-ndjson"];

    private IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly MemoryStream _held = new();
    private MemoryStream? _copy;
    private bool? _streaming;

    public override bool CanRead => false;

    // Seekable while held, so that HttpResponse.Clear (the exception handler's) can empty it.
    public override bool CanSeek => !Streaming;

    public override bool CanWrite => true;

    public override long Length => Streaming ? throw new NotSupportedException() : _held.Length;

    public override long Position
    {
        get => Streaming ? throw new NotSupportedException() : _held.Length;
        set => throw new NotSupportedException();
    }

    /// <summary>Whether the body already went out as it was written.</summary>
    public bool Streaming => _streaming == true;

    public (byte[] Digest, byte[]? Body) Finish() => (_hash.GetHashAndReset(), _copy?.ToArray());

    /// <summary>Sends the held body (after its event is durable).</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        if (_held.Length > 0)
        {
            if (!response.HasStarted && response.ContentLength is null)
            {
                response.ContentLength = _held.Length;
            }

            _held.Position = 0;
            await _held.CopyToAsync(inner, cancellationToken);
            _held.SetLength(0);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _hash.AppendData(buffer.Span);
        if (feature.StoreBodies)
        {
            _copy ??= new MemoryStream();
            _copy.Write(buffer.Span);
        }

        if (IsStreaming())
        {
            await inner.WriteAsync(buffer, cancellationToken);
        }
        else
        {
            _held.Write(buffer.Span);
        }
    }

    public override void Flush()
    {
        if (Streaming)
        {
            inner.Flush();
        }
    }

    public override Task FlushAsync(CancellationToken cancellationToken) =>
        IsStreaming() ? inner.FlushAsync(cancellationToken) : Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <summary>Only <c>SetLength(0)</c> on a held body: what HttpResponse.Clear does before an error replaces it.</summary>
    public override void SetLength(long value)
    {
        if (value != 0 || Streaming)
        {
            throw new NotSupportedException();
        }

        _held.SetLength(0);
        _copy?.SetLength(0);
        _hash.Dispose();
        _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
            _held.Dispose();
            _copy?.Dispose();
        }

        base.Dispose(disposing);
    }

    private bool IsStreaming()
    {
        // Decided at the first write or flush, when the endpoint has set its content type.
        _streaming ??= response.ContentType is { } type && StreamingTypes.Any(t => type.StartsWith(t, StringComparison.OrdinalIgnoreCase));
        return _streaming.Value;
    }
}
