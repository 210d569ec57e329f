using Microsoft.Extensions.Logging;

namespace Outpost.ServiceDefaults.Schema;

public sealed partial class SchemaMigrator
{
    [LoggerMessage(EventId = 1, EventName = "SchemaLockWait", Level = LogLevel.Information,
        Message = "Another process is migrating the database schema; waiting for it to finish")]
    private static partial void LogWaitingForLock(ILogger logger);

    [LoggerMessage(EventId = 2, EventName = "SchemaMigrationApplied", Level = LogLevel.Information,
        Message = "Applied schema migration {Version} ({MigrationName}) in {ElapsedMilliseconds} ms")]
    private static partial void LogApplied(ILogger logger, int version, string migrationName, long elapsedMilliseconds);

    [LoggerMessage(EventId = 3, EventName = "SchemaUpToDate", Level = LogLevel.Debug,
        Message = "Database schema is up to date ({Count} migrations already applied)")]
    private static partial void LogUpToDate(ILogger logger, int count);

    [LoggerMessage(EventId = 4, EventName = "SchemaMigrationMismatch", Level = LogLevel.Error,
        Message = "Schema migration {Version} ({MigrationName}) differs from the one recorded in the database (recorded sha256 {RecordedSha256}, built-in {ExpectedSha256})")]
    private static partial void LogMismatch(ILogger logger, int version, string migrationName, string recordedSha256, string expectedSha256);

    [LoggerMessage(EventId = 5, EventName = "SchemaMigrationUnknown", Level = LogLevel.Warning,
        Message = "The database records schema migration {Version} ({MigrationName}), which this build does not know; a newer build has migrated it")]
    private static partial void LogUnknown(ILogger logger, int version, string migrationName);
}
