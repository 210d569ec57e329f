using Outpost.Grains.Placement;

namespace Outpost.Grains.TaskRuns;

/// <summary>One remote execution. Every transition is checked against the current status and persisted before it is reported.</summary>
[ControlPlane]
public sealed class TaskRunGrain(
    [PersistentState(StateNames.TaskRun, StorageNames.Default)] IPersistentState<TaskRunState> state,
    TimeProvider time) : Grain, ITaskRunGrain
{
    public async Task<TaskRunSnapshot> CreateAsync(TaskRunSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (state.State.Status != TaskRunStatus.None)
        {
            // A retried create is harmless; a different request under the same id is a conflict, not an overwrite.
            return state.State.Spec == spec
                ? Snapshot()
                : throw new TaskRunStateException($"Task run '{this.GetPrimaryKeyString()}' already exists with a different request.");
        }

        var now = time.GetUtcNow();
        state.State.Spec = spec;
        state.State.Status = spec.RequiresApproval ? TaskRunStatus.AwaitingApproval : TaskRunStatus.Queued;
        state.State.CreatedAt = now;
        state.State.UpdatedAt = now;
        await state.WriteStateAsync();
        return Snapshot();
    }

    public Task<TaskRunSnapshot> GetAsync() => Task.FromResult(Snapshot());

    public async Task<TaskRunSnapshot> DecideAsync(bool approved, string decidedBy)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(decidedBy);
        if (state.State.Status != TaskRunStatus.AwaitingApproval)
        {
            throw new TaskRunStateException($"Task run '{this.GetPrimaryKeyString()}' is {state.State.Status}, not awaiting approval.");
        }

        state.State.DecidedBy = decidedBy;
        await TransitionAsync(approved ? TaskRunStatus.Queued : TaskRunStatus.Rejected, approved ? null : $"rejected by {decidedBy}");
        return Snapshot();
    }

    public async Task<TaskRunSnapshot> CancelAsync(string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        if (state.State.Status is TaskRunStatus.None or TaskRunStatus.Succeeded or TaskRunStatus.Failed or TaskRunStatus.Cancelled or TaskRunStatus.Rejected)
        {
            throw new TaskRunStateException($"Task run '{this.GetPrimaryKeyString()}' is {state.State.Status} and cannot be cancelled.");
        }

        await TransitionAsync(TaskRunStatus.Cancelled, reason);
        return Snapshot();
    }

    private async Task TransitionAsync(TaskRunStatus status, string? reason)
    {
        var previous = (state.State.Status, state.State.Reason, state.State.UpdatedAt);
        state.State.Status = status;
        state.State.Reason = reason;
        state.State.UpdatedAt = time.GetUtcNow();
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            (state.State.Status, state.State.Reason, state.State.UpdatedAt) = previous;
            throw;
        }
    }

    private TaskRunSnapshot Snapshot() => new(
        this.GetPrimaryKeyString(),
        state.State.Status,
        state.State.Spec,
        state.State.CreatedAt,
        state.State.UpdatedAt,
        state.State.Reason);
}
