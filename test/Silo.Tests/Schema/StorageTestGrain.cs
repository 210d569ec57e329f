namespace Outpost.Silo.Tests.Schema;

/// <summary>Keeps one value in the ADO.NET storage named <see cref="StorageName"/>.</summary>
public sealed class StorageTestGrain(
    [PersistentState(StorageTestGrain.StateName, StorageTestGrain.StorageName)] IPersistentState<StorageTestState> state)
    : Grain, IStorageTestGrain
{
    public const string StateName = "storage-test";
    public const string StorageName = "test";

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
