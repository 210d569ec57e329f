namespace Outpost.Grains.TaskRuns;

/// <summary>A task run as it stands.</summary>
/// <param name="RunId">The run's id (the grain key).</param>
/// <param name="Status">Where the run is in its life.</param>
/// <param name="Spec">What was asked for; null when <see cref="Status"/> is <see cref="TaskRunStatus.None"/>.</param>
/// <param name="CreatedAt">When the run was created.</param>
/// <param name="UpdatedAt">When its status last changed.</param>
/// <param name="Reason">Why it is where it is: the decision, the failure, the refusal.</param>
/// <param name="Device">The device it was dispatched to, once it was.</param>
/// <param name="ExitCode">The task's exit code, once it exited.</param>
/// <param name="StartedAt">When the device started it.</param>
/// <param name="EndedAt">When it ended.</param>
/// <param name="Outputs">The files it returned, with digests.</param>
/// <param name="LogDigest">The digest of its stored log, once it ended.</param>
/// <param name="LogBytes">Bytes of log received so far.</param>
/// <param name="DecidedBy">Who decided at the approval gate.</param>
/// <param name="ApprovalExpiresAt">When a pending approval runs out.</param>
/// <param name="Attempt">How many times it was dispatched.</param>
/// <param name="ResultVerified">True when the device's result signature verified.</param>
/// <param name="CreatedByRequest">The request that created the run (a retried submission carries another).</param>
[GenerateSerializer, Immutable, Alias("outpost.TaskRunSnapshot")]
public sealed record TaskRunSnapshot(
    [property: Id(0)] string RunId,
    [property: Id(1)] TaskRunStatus Status,
    [property: Id(2)] TaskRunSpec? Spec,
    [property: Id(3)] DateTimeOffset CreatedAt,
    [property: Id(4)] DateTimeOffset UpdatedAt,
    [property: Id(5)] string? Reason,
    [property: Id(6)] string? Device = null,
    [property: Id(7)] int? ExitCode = null,
    [property: Id(8)] DateTimeOffset? StartedAt = null,
    [property: Id(9)] DateTimeOffset? EndedAt = null,
    [property: Id(10)] IReadOnlyList<TaskOutput>? Outputs = null,
    [property: Id(11)] string? LogDigest = null,
    [property: Id(12)] long LogBytes = 0,
    [property: Id(13)] string? DecidedBy = null,
    [property: Id(14)] DateTimeOffset? ApprovalExpiresAt = null,
    [property: Id(15)] int Attempt = 0,
    [property: Id(16)] bool ResultVerified = false,
    [property: Id(17)] string? CreatedByRequest = null);
