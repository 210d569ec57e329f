using Outpost.Grains.Placement;

namespace Outpost.Grains.TenantQuotas;

[ControlPlane]
public sealed class TenantQuotaGrain(
    [PersistentState(StateNames.TenantQuota, StorageNames.Default)] IPersistentState<TenantQuotaState> state,
    TimeProvider time) : Grain, ITenantQuotaGrain
{
    public async Task SetLimitsAsync(TenantLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        if (limits.Validate() is { } problem)
        {
            throw new ArgumentException(problem, nameof(limits));
        }

        state.State.Limits = limits;
        state.State.UpdatedAt = time.GetUtcNow();
        await state.WriteStateAsync();
    }

    public Task<TenantLimits?> GetLimitsAsync() => Task.FromResult(state.State.Limits);
}
