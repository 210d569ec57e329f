namespace Outpost.Silo.Tests.Schema;

/// <summary>Like <see cref="StorageTestGrain"/>, on a storage that deletes the row when state is cleared.</summary>
public sealed class DeletingStorageTestGrain(
    [PersistentState(DeletingStorageTestGrain.StateName, DeletingStorageTestGrain.StorageName)] IPersistentState<StorageTestState> state)
    : Grain, IStorageTestGrain
{
    public const string StateName = "deleting-test";
    public const string StorageName = "test-delete";

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
