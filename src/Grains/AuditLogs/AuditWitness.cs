using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Outpost.AuditLog.Verification;

namespace Outpost.Grains.AuditLogs;

/// <summary>
/// Hands every signed checkpoint to the witnesses configured: a file (<c>Audit:WitnessFile</c>, one JSON line each)
/// and an HTTP endpoint (<c>Audit:WitnessUrl</c>, one POST each), so that a copy of the log's history lives outside the
/// database, each as a <see cref="WitnessRecord"/>. A witness that fails is logged and skipped: signing never waits
/// on it for longer than <c>Audit:WitnessTimeout</c>, and the checkpoint itself is already stored.
/// </summary>
public sealed partial class AuditWitness : IDisposable
{
    private readonly AuditLogOptions _options;
    private readonly ILogger<AuditWitness> _logger;
    private readonly HttpClient? _http;
    private readonly SemaphoreSlim _fileGate = new(1, 1);

    public AuditWitness(IOptions<AuditLogOptions> options, ILogger<AuditWitness> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _logger = logger;
        if (_options.WitnessUrl is { Length: > 0 } url)
        {
            // Connections are recycled so that a witness that moves (DNS) is followed.
            _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
            {
                BaseAddress = new Uri(url, UriKind.Absolute),
                Timeout = _options.WitnessTimeout,
            };
        }
    }

    public async Task PublishAsync(AuditCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(_options.WitnessFile) && _http is null)
        {
            return;
        }

        var json = WitnessRecord.Format(checkpoint);
        await Task.WhenAll(WriteFileAsync(checkpoint.Tenant, json, cancellationToken), PostAsync(checkpoint.Tenant, json, cancellationToken));
    }

    public void Dispose()
    {
        _http?.Dispose();
        _fileGate.Dispose();
    }

    private async Task WriteFileAsync(string tenant, string json, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(_options.WitnessFile))
        {
            return;
        }

        // One line at a time: grains of different tenants sign concurrently, and lines must not interleave.
        await _fileGate.WaitAsync(cancellationToken);
        try
        {
            await File.AppendAllTextAsync(_options.WitnessFile, json + "\n", cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogFileFailed(_logger, ex, tenant, _options.WitnessFile);
        }
        finally
        {
            _fileGate.Release();
        }
    }

    private async Task PostAsync(string tenant, string json, CancellationToken cancellationToken)
    {
        if (_http is null)
        {
            return;
        }

        try
        {
            using var content = new StringContent(json, Encoding.UTF8);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await _http.PostAsync((Uri?)null, content, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                LogUrlRefused(_logger, tenant, _http.BaseAddress!, (int)response.StatusCode);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogUrlFailed(_logger, ex, tenant, _http.BaseAddress!);
        }
    }

    [LoggerMessage(EventId = 6, EventName = "AuditWitnessFailed", Level = LogLevel.Error,
        Message = "Could not append the audit checkpoint of tenant {TenantId} to the witness file {WitnessFile}")]
    private static partial void LogFileFailed(ILogger logger, Exception exception, string tenantId, string witnessFile);

    [LoggerMessage(EventId = 8, EventName = "AuditWitnessUrlFailed", Level = LogLevel.Warning,
        Message = "Could not send the audit checkpoint of tenant {TenantId} to the witness at {WitnessUrl}; it can fetch it later")]
    private static partial void LogUrlFailed(ILogger logger, Exception exception, string tenantId, Uri witnessUrl);

    [LoggerMessage(EventId = 9, EventName = "AuditWitnessUrlRefused", Level = LogLevel.Warning,
        Message = "The witness at {WitnessUrl} answered {Status} to the audit checkpoint of tenant {TenantId}")]
    private static partial void LogUrlRefused(ILogger logger, string tenantId, Uri witnessUrl, int status);
}
