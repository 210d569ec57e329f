namespace Outpost.ServiceDefaults.Tests.Schema;

/// <summary>Keeps one value in the ADO.NET storage named <see cref="StorageName"/>.</summary>
public sealed class StorageTestGrain(
    [PersistentState(StorageTestGrain.StateName, StorageTestGrain.StorageName)] IPersistentState<StorageTestState> state)
    : StorageTestGrainBase(state)
{
    public const string StateName = "storage-test";
    public const string StorageName = "test";
}
