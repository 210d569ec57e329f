using Microsoft.Extensions.Hosting;
using Outpost.Execution;
using Outpost.ServiceDefaults.Configuration;

namespace Outpost.Grains.TaskRuns;

public static class TaskRunHostingExtensions
{
    /// <summary>What a control silo needs to host task runs: their options, the artifact store, the key ring and the run index.</summary>
    public static IHostApplicationBuilder AddTaskRuns(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddValidatedOptions<TaskRunOptions>(TaskRunOptions.Section);
        builder.AddExecutionStorage();
        return builder;
    }
}
