namespace Outpost.ServiceDefaults.Tests.Schema;

[GenerateSerializer, Alias("Outpost.Silo.Tests.StorageTestState")]
public sealed class StorageTestState
{
    [Id(0)]
    public string? Value { get; set; }
}
