namespace Outpost.ServiceDefaults.Tests.Schema;

/// <summary>Like <see cref="StorageTestGrain"/>, on a storage that deletes the row when state is cleared.</summary>
public sealed class DeletingStorageTestGrain(
    [PersistentState(DeletingStorageTestGrain.StateName, DeletingStorageTestGrain.StorageName)] IPersistentState<StorageTestState> state)
    : StorageTestGrainBase(state)
{
    public const string StateName = "deleting-test";
    public const string StorageName = "test-delete";
}
