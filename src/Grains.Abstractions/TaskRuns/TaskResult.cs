namespace Outpost.Grains.TaskRuns;

/// <summary>What a device says happened, signed with its own key (<see cref="SignedTaskResult"/>).</summary>
/// <param name="RunId">The run.</param>
/// <param name="Device">The device that ran it.</param>
/// <param name="ManifestSha256">SHA-256 (hex) of the manifest JSON it ran: binds the result to the approved inputs and policy.</param>
/// <param name="End">How it ended: <c>exited</c>, <c>timed_out</c>, <c>cancelled</c>, <c>output_limit</c> or <c>start_failed</c>.</param>
/// <param name="ExitCode">The exit code when it exited.</param>
/// <param name="StartedAt">When the sandbox started.</param>
/// <param name="EndedAt">When it ended.</param>
/// <param name="CpuMilliseconds">CPU time of the whole tree, when the device measures it.</param>
/// <param name="LogSha256">SHA-256 (hex) of the combined log.</param>
/// <param name="LogBytes">Size of the log.</param>
/// <param name="Outputs">The files returned, with their digests.</param>
/// <param name="Error">What went wrong outside the task itself (a missing input, an unusable archive), if anything.</param>
[GenerateSerializer, Immutable, Alias("outpost.TaskResult")]
public sealed record TaskResult(
    [property: Id(0)] string RunId,
    [property: Id(1)] string Device,
    [property: Id(2)] string ManifestSha256,
    [property: Id(3)] string End,
    [property: Id(4)] int? ExitCode,
    [property: Id(5)] DateTimeOffset StartedAt,
    [property: Id(6)] DateTimeOffset EndedAt,
    [property: Id(7)] long? CpuMilliseconds,
    [property: Id(8)] string LogSha256,
    [property: Id(9)] long LogBytes,
    [property: Id(10)] IReadOnlyList<TaskOutput> Outputs,
    [property: Id(11)] string? Error)
{
    public const string Exited = "exited";
    public const string TimedOut = "timed_out";
    public const string Cancelled = "cancelled";
    public const string OutputLimit = "output_limit";
    public const string StartFailed = "start_failed";
}
