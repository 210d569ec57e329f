namespace Outpost.ServiceDefaults.Tests.Schema;

/// <summary>The behaviour of the storage test grains; each subclass picks the state name and storage.</summary>
public abstract class StorageTestGrainBase(IPersistentState<StorageTestState> state) : Grain, IStorageTestGrain
{
    private readonly Guid _activationId = Guid.NewGuid();

    public Task SetValueAsync(string value)
    {
        state.State.Value = value;
        return state.WriteStateAsync();
    }

    public Task<string?> GetValueAsync() => Task.FromResult(state.State.Value);

    public Task ClearAsync() => state.ClearStateAsync();

    public Task<Guid> GetActivationIdAsync() => Task.FromResult(_activationId);

    public Task DeactivateAsync()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}
