namespace Outpost.Grains.TaskRuns;

/// <summary>What the statuses of a run mean for its life.</summary>
public static class TaskRunStatuses
{
    /// <summary>Whether a run in <paramref name="status"/> has ended and will never change again.</summary>
    public static bool IsTerminal(TaskRunStatus status) =>
        status is TaskRunStatus.Succeeded or TaskRunStatus.Failed or TaskRunStatus.Cancelled or TaskRunStatus.Rejected
            or TaskRunStatus.TimedOut or TaskRunStatus.Expired;

    /// <summary>The wire name of a status, e.g. <c>awaiting_approval</c>.</summary>
    public static string Name(TaskRunStatus status) => status switch
    {
        TaskRunStatus.AwaitingApproval => "awaiting_approval",
        TaskRunStatus.TimedOut => "timed_out",
        _ => status.ToString().ToLowerInvariant(),
    };

    /// <summary>Parses a wire name; null when it names no status.</summary>
    public static TaskRunStatus? Parse(string? name) =>
        Enum.GetValues<TaskRunStatus>().Where(s => s != TaskRunStatus.None).Cast<TaskRunStatus?>()
            .FirstOrDefault(s => string.Equals(Name(s!.Value), name, StringComparison.Ordinal));
}
