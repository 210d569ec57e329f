namespace Outpost.Grains.TaskRuns;

/// <summary>Thrown by a device that refuses a manifest (bad signature or endorsement, expired, another device's, replayed).</summary>
[GenerateSerializer, Alias("outpost.TaskRefusedException")]
public sealed class TaskRefusedException : Exception
{
    public TaskRefusedException()
    {
    }

    public TaskRefusedException(string message)
        : base(message)
    {
    }

    public TaskRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
