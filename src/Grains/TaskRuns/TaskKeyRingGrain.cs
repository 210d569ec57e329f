using Outpost.Execution.Signing;
using Outpost.Grains.Placement;

namespace Outpost.Grains.TaskRuns;

/// <summary>Publishes the endorsed task-signing public keys to the cluster (devices verify endorsements with them).</summary>
[ControlPlane]
public sealed class TaskKeyRingGrain(TaskKeyRing keys) : Grain, ITaskKeyRingGrain
{
    public Task<IReadOnlyList<TaskSigningKey>> ListAsync() => keys.ListAsync();
}
