namespace Outpost.ServiceDefaults.Tests.Schema;

public sealed class ReminderTestGrain : Grain, IReminderTestGrain, IRemindable
{
    // Far enough out that no reminder fires while a test runs.
    private static readonly TimeSpan DueTime = TimeSpan.FromHours(1);

    public async Task<string> RegisterAsync(string reminderName)
    {
        var reminder = await this.RegisterOrUpdateReminder(reminderName, DueTime, DueTime);
        return reminder.ReminderName;
    }

    public async Task<string?> GetAsync(string reminderName) => (await this.GetReminder(reminderName))?.ReminderName;

    public async Task UnregisterAsync(string reminderName)
    {
        var reminder = await this.GetReminder(reminderName)
            ?? throw new InvalidOperationException($"Reminder '{reminderName}' is not registered.");
        await this.UnregisterReminder(reminder);
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask;
}
