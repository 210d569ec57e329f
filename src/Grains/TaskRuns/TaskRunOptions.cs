using System.ComponentModel.DataAnnotations;

namespace Outpost.Grains.TaskRuns;

/// <summary>How the control plane drives task runs. Section <c>Tasks</c>.</summary>
public sealed class TaskRunOptions
{
    public const string Section = "Tasks";

    /// <summary>How often a live run checks its device, its deadlines and its queue.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00", ErrorMessage = "must be a time span from 00:00:00.100 to 00:01:00.")]
    public TimeSpan MonitorInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a signed manifest stays valid: a device refuses to start it later.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00", ErrorMessage = "must be a time span from 00:00:10 to 1.00:00:00.")]
    public TimeSpan ManifestLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a queued run waits for a device before it expires.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00", ErrorMessage = "must be a time span from 00:00:01 to 7.00:00:00.")]
    public TimeSpan QueueTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long past a run's wall limit the control plane waits for its result before it ends it TimedOut.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "must be a time span from 00:00:01 to 01:00:00.")]
    public TimeSpan ResultGrace { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Dispatches of a retry-safe run before a lost device fails it.</summary>
    [Range(1, 10, ErrorMessage = "must be from 1 to 10.")]
    public int MaxAttempts { get; set; } = 2;
}
