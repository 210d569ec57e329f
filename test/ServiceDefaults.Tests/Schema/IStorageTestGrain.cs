namespace Outpost.ServiceDefaults.Tests.Schema;

[Alias("Outpost.Silo.Tests.IStorageTestGrain")]
public interface IStorageTestGrain : IGrainWithStringKey
{
    [Alias("SetValue")]
    Task SetValueAsync(string value);

    [Alias("GetValue")]
    Task<string?> GetValueAsync();

    [Alias("Clear")]
    Task ClearAsync();

    [Alias("GetActivationId")]
    Task<Guid> GetActivationIdAsync();

    [Alias("Deactivate")]
    Task DeactivateAsync();
}
