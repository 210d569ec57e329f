namespace Outpost.ServiceDefaults.Tests.Schema;

[Alias("Outpost.Silo.Tests.IReminderTestGrain")]
public interface IReminderTestGrain : IGrainWithStringKey
{
    [Alias("Register")]
    Task<string> RegisterAsync(string reminderName);

    [Alias("Get")]
    Task<string?> GetAsync(string reminderName);

    [Alias("Unregister")]
    Task UnregisterAsync(string reminderName);
}
