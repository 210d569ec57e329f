namespace Outpost.Grains.TaskRuns;

/// <summary>The control plane's published task-signing keys, for devices to verify endorsements with. Key <see cref="Key"/>.</summary>
[Alias("outpost.ITaskKeyRingGrain")]
public interface ITaskKeyRingGrain : IGrainWithStringKey
{
    /// <summary>The key of the cluster's key ring.</summary>
    const string Key = "cluster";

    /// <summary>Every endorsed task-signing public key, newest first.</summary>
    [Alias("ListAsync")]
    Task<IReadOnlyList<TaskSigningKey>> ListAsync();
}
