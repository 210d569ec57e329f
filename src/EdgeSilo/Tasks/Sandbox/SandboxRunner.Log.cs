namespace Outpost.EdgeSilo.Tasks.Sandbox;

public sealed partial class SandboxRunner
{
    [LoggerMessage(EventId = 60, EventName = "SandboxAvailable", Level = LogLevel.Information, Message = "The task sandbox is available and enforces {Enforced}")]
    private static partial void LogSandboxAvailable(ILogger logger, IReadOnlyList<string> enforced);

    [LoggerMessage(EventId = 61, EventName = "SandboxUnavailable", Level = LogLevel.Error, Message = "The task sandbox is unavailable: {Problem}")]
    private static partial void LogSandboxUnavailable(ILogger logger, string problem);

    [LoggerMessage(EventId = 62, EventName = "SandboxReadOnlyPathMissing", Level = LogLevel.Warning, Message = "The sandbox's read-only path {Path} does not exist on this machine and is left out")]
    private static partial void LogReadOnlyPathMissing(ILogger logger, string path);

    [LoggerMessage(EventId = 63, EventName = "SandboxCgroupsUnavailable", Level = LogLevel.Warning, Message = "No cgroup under {CgroupRoot} is usable ({Problem}): sandboxed runs are held by rlimits only")]
    internal static partial void LogCgroupsUnavailable(ILogger logger, string cgroupRoot, string problem);

    [LoggerMessage(EventId = 64, EventName = "SandboxCgroupControllerMissing", Level = LogLevel.Warning, Message = "The cgroup controller {Controller} is not mounted at {Path}")]
    internal static partial void LogCgroupControllerMissing(ILogger logger, string controller, string path);

    [LoggerMessage(EventId = 65, EventName = "SandboxCgroupControllerUnusable", Level = LogLevel.Warning, Message = "The cgroup controllers {Controllers} cannot be used at {Path}: {Problem}")]
    internal static partial void LogCgroupControllerUnusable(ILogger logger, string controllers, string path, string problem);

    [LoggerMessage(EventId = 66, EventName = "SandboxSiloMovedToLeaf", Level = LogLevel.Information, Message = "The silo moved into the cgroup {Leaf} so that its own group can hand controllers to sandboxes")]
    internal static partial void LogSiloMovedToLeaf(ILogger logger, string leaf);

    [LoggerMessage(EventId = 67, EventName = "SandboxRunStarted", Level = LogLevel.Debug, Message = "Sandboxed run {RunId} started as process {ProcessId}")]
    private static partial void LogRunStarted(ILogger logger, string runId, int processId);

    [LoggerMessage(EventId = 68, EventName = "SandboxRunEnded", Level = LogLevel.Debug, Message = "Sandboxed run {RunId} ended {End} with exit code {ExitCode} after {WallMs} ms and {OutputBytes} bytes of output")]
    private static partial void LogRunEnded(ILogger logger, string runId, SandboxEnd end, int? exitCode, double wallMs, long outputBytes);

    [LoggerMessage(EventId = 69, EventName = "SandboxRunNotStarted", Level = LogLevel.Warning, Message = "The sandbox did not start run {RunId} ({Detail}): {Message}")]
    private static partial void LogRunNotStarted(ILogger logger, string runId, string detail, string message);

    [LoggerMessage(EventId = 70, EventName = "SandboxRunCgroupFailed", Level = LogLevel.Error, Message = "The cgroups of run {RunId} could not be created: {Problem}")]
    private static partial void LogRunCgroupFailed(ILogger logger, string runId, string problem);

    [LoggerMessage(EventId = 71, EventName = "SandboxProcessesLeft", Level = LogLevel.Error, Message = "Processes of run {RunId} survived the teardown: {Pids}")]
    private static partial void LogProcessesLeft(ILogger logger, string runId, IReadOnlyList<int> pids);

    [LoggerMessage(EventId = 72, EventName = "SandboxCgroupNotRemoved", Level = LogLevel.Error, Message = "The cgroups of run {RunId} could not be removed: {Directories}")]
    private static partial void LogCgroupNotRemoved(ILogger logger, string runId, IReadOnlyList<string> directories);
}
