using Microsoft.Extensions.Logging;

namespace Outpost.Grains.AuditLogs;

public sealed partial class AuditLogGrain
{
    [LoggerMessage(EventId = 1, EventName = "AuditCheckpointSigned", Level = LogLevel.Debug,
        Message = "Signed the audit checkpoint of tenant {TenantId} at size {TreeSize} with key {KeyId}")]
    private static partial void LogCheckpointSigned(ILogger logger, string tenantId, long treeSize, string keyId);

    [LoggerMessage(EventId = 2, EventName = "AuditAppendFailed", Level = LogLevel.Error,
        Message = "Writing {Count} audit events of tenant {TenantId} failed; their requests are told so")]
    private static partial void LogAppendFailed(ILogger logger, Exception exception, string tenantId, int count);

    [LoggerMessage(EventId = 3, EventName = "AuditReloadAfterConflict", Level = LogLevel.Warning,
        Message = "Audit events of tenant {TenantId} were already stored ({Constraint}); reloading the log before writing the rest")]
    private static partial void LogReloadingAfterConflict(ILogger logger, string tenantId, string? constraint);

    [LoggerMessage(EventId = 4, EventName = "AuditIntegrityProblem", Level = LogLevel.Critical,
        Message = "Audit log of tenant {TenantId} failed its check at activation; no checkpoint will be signed: {Problem}")]
    private static partial void LogIntegrityProblem(ILogger logger, string tenantId, string problem);

    [LoggerMessage(EventId = 5, EventName = "AuditPruned", Level = LogLevel.Information,
        Message = "Pruned the audit log of tenant {TenantId} before event {TreeSize} (retention {RetentionDays} days)")]
    private static partial void LogPruned(ILogger logger, string tenantId, long treeSize, int retentionDays);

    [LoggerMessage(EventId = 7, EventName = "AuditDeactivationCheckpointFailed", Level = LogLevel.Warning,
        Message = "Could not sign a checkpoint of tenant {TenantId}'s audit log while deactivating")]
    private static partial void LogDeactivationCheckpointFailed(ILogger logger, Exception exception, string tenantId);
}
