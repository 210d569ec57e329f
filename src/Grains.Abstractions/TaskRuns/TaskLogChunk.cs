namespace Outpost.Grains.TaskRuns;

/// <summary>A piece of a run's log, for a reader following it.</summary>
/// <param name="Data">Log bytes from the requested offset (possibly none).</param>
/// <param name="NextOffset">The offset to ask for next.</param>
/// <param name="Status">The run's status when the chunk was read.</param>
/// <param name="Complete">True when the run has ended and the log holds everything it will ever hold.</param>
[GenerateSerializer, Immutable, Alias("outpost.TaskLogChunk")]
public sealed record TaskLogChunk(
    [property: Id(0)] byte[] Data,
    [property: Id(1)] long NextOffset,
    [property: Id(2)] TaskRunStatus Status,
    [property: Id(3)] bool Complete);
