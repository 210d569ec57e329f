using System.Security.Claims;
using Outpost.Gateway.Identity;
using Outpost.Grains.AuditLogs;

namespace Outpost.Gateway.Security;

/// <summary>
/// Writes every refused request to the audit log of the caller's tenant (or of <see cref="Unauthenticated"/> when the
/// caller could not be identified), with the rule that refused it. Never waits: a slow audit must not slow a refusal,
/// and a failed audit write is logged rather than turned into an error for the caller.
/// </summary>
public sealed partial class DenialAuditor(IClusterClient cluster, TimeProvider time, ILogger<DenialAuditor> logger)
{
    /// <summary>The audit stream for requests whose tenant is unknown.</summary>
    public const string Unauthenticated = "_unauthenticated";

    public void Record(HttpContext context, string decision, string reason)
    {
        ArgumentNullException.ThrowIfNull(context);
        var user = context.User;
        var tenant = user.FindFirstValue(OutpostClaims.Tenant) ?? Unauthenticated;
        var subject = user.FindFirstValue(OutpostClaims.Subject) ?? user.FindFirstValue(OutpostClaims.ClientId)
            ?? context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        var auditEvent = new AuditEvent(
            time.GetUtcNow(), subject, $"{context.Request.Method} {context.Request.Path}", $"{decision} ({reason})", null, context.TraceIdentifier);
        _ = WriteAsync(tenant, auditEvent);
    }

    private async Task WriteAsync(string tenant, AuditEvent auditEvent)
    {
        try
        {
            await cluster.GetGrain<IAuditLogGrain>(tenant).AppendAsync(auditEvent);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogAuditFailed(logger, ex, auditEvent.Decision);
        }
    }

    [LoggerMessage(EventId = 50, EventName = "DenialAuditFailed", Level = LogLevel.Error, Message = "Could not audit a refused request ({Decision})")]
    private static partial void LogAuditFailed(ILogger logger, Exception exception, string decision);
}
