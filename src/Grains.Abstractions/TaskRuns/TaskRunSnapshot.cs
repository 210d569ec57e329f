namespace Outpost.Grains.TaskRuns;

/// <summary>A task run as it stands.</summary>
/// <param name="RunId">The run's id (the grain key).</param>
/// <param name="Status">Where the run is in its life.</param>
/// <param name="Spec">What was asked for; null when <see cref="Status"/> is <see cref="TaskRunStatus.None"/>.</param>
/// <param name="CreatedAt">When the run was created.</param>
/// <param name="UpdatedAt">When its status last changed.</param>
/// <param name="Reason">Why it ended the way it did, when it did not succeed.</param>
[GenerateSerializer, Immutable, Alias("outpost.TaskRunSnapshot")]
public sealed record TaskRunSnapshot(
    [property: Id(0)] string RunId,
    [property: Id(1)] TaskRunStatus Status,
    [property: Id(2)] TaskRunSpec? Spec,
    [property: Id(3)] DateTimeOffset CreatedAt,
    [property: Id(4)] DateTimeOffset UpdatedAt,
    [property: Id(5)] string? Reason);
