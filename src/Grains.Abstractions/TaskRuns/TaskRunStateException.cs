namespace Outpost.Grains.TaskRuns;

/// <summary>Thrown when a task run is asked for a transition its current status does not allow.</summary>
[GenerateSerializer, Alias("outpost.TaskRunStateException")]
public sealed class TaskRunStateException : Exception
{
    public TaskRunStateException()
    {
    }

    public TaskRunStateException(string message)
        : base(message)
    {
    }

    public TaskRunStateException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
