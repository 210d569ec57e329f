namespace Outpost.Grains.TaskRuns;

[GenerateSerializer, Alias("outpost.TaskRunState")]
public sealed class TaskRunState
{
    [Id(0)]
    public TaskRunStatus Status { get; set; }

    [Id(1)]
    public TaskRunSpec? Spec { get; set; }

    [Id(2)]
    public DateTimeOffset CreatedAt { get; set; }

    [Id(3)]
    public DateTimeOffset UpdatedAt { get; set; }

    [Id(4)]
    public string? Reason { get; set; }

    [Id(5)]
    public string? DecidedBy { get; set; }
}
