using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Outpost.AuditLog.Storage;

namespace Outpost.Grains.AuditLogs;

/// <summary>
/// Bounds how long an event may wait in the audit intake. Gateways hand each staged event to its AuditLog grain
/// themselves; when that fails (the gateway died after it answered, the control silo was down for longer than the
/// gateway retried), this service, on every control silo, finds the tenants whose events have waited longer than
/// <see cref="AuditLogOptions.IntakeGrace"/> and has their grains log them. Two control silos doing it at once is
/// harmless: a grain logs a request id once.
/// </summary>
public sealed partial class AuditIntakeSweeper(
    IGrainFactory grains,
    AuditIntake intake,
    IOptions<AuditLogOptions> options,
    TimeProvider time,
    ILogger<AuditIntakeSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.IntakeSweepInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await SweepAsync(stoppingToken);
        }
    }

    /// <summary>Has every tenant with an overdue staged event log it; returns how many events were logged.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var logged = 0;
        try
        {
            var tenants = await intake.TenantsWithEventsStagedBeforeAsync(time.GetUtcNow() - options.Value.IntakeGrace, cancellationToken);
            foreach (var tenant in tenants)
            {
                try
                {
                    var count = await grains.GetGrain<IAuditLogGrain>(tenant).IngestStagedAsync();
                    logged += count;
                    if (count > 0)
                    {
                        LogSwept(logger, count, tenant);
                    }
                }
                catch (Exception ex) when (ex is not OutOfMemoryException && !cancellationToken.IsCancellationRequested)
                {
                    LogSweepFailed(logger, ex, tenant);
                }
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException && !cancellationToken.IsCancellationRequested)
        {
            LogSweepFailed(logger, ex, "*");
        }

        return logged;
    }

    [LoggerMessage(EventId = 20, EventName = "AuditIntakeSwept", Level = LogLevel.Warning,
        Message = "Logged {Count} audit events of tenant {TenantId} that waited in the intake past their grace period")]
    private static partial void LogSwept(ILogger logger, int count, string tenantId);

    [LoggerMessage(EventId = 21, EventName = "AuditIntakeSweepFailed", Level = LogLevel.Error,
        Message = "Could not log the staged audit events of tenant {TenantId}; the next sweep retries")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception, string tenantId);
}
