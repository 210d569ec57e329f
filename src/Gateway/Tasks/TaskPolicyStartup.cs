namespace Outpost.Gateway.Tasks;

/// <summary>Reads the task policy as the gateway starts, so that a broken policy file stops it with the file's error.</summary>
internal sealed partial class TaskPolicyStartup(TaskPolicyProvider policies, ILogger<TaskPolicyStartup> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        LogPolicy(logger, policies.Current.Source, policies.Current.RuleCount);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Task policy {Source}: {RuleCount} rules")]
    private static partial void LogPolicy(ILogger logger, string source, int ruleCount);
}
