using Outpost.Execution;
using Outpost.ServiceDefaults.Configuration;

namespace Outpost.Gateway.Tasks;

public static class TasksExtensions
{
    /// <summary>Remote execution at the door: the policy (checked at start, reloaded on change), submissions, the artifact store and the run index.</summary>
    public static WebApplicationBuilder AddTasks(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddValidatedOptions<TaskPolicyOptions>(TaskPolicyOptions.Section);
        builder.AddExecutionStorage();
        builder.Services.AddSingleton<TaskPolicyProvider>();
        builder.Services.AddHostedService<TaskPolicyStartup>();
        builder.Services.AddSingleton<TaskSubmissions>();
        builder.Services.AddDataProtection();
        builder.Services.AddSingleton<ApprovalSessions>();
        return builder;
    }
}
