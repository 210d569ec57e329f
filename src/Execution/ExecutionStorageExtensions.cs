using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Outpost.Execution.Artifacts;
using Outpost.Execution.Runs;
using Outpost.Execution.Signing;
using Outpost.ServiceDefaults.Configuration;
using Outpost.ServiceDefaults.Security;

namespace Outpost.Execution;

public static class ExecutionStorageExtensions
{
    /// <summary>
    /// Remote execution's storage as the control silo, the gateway and the admin CLI share it: the artifact store
    /// (<see cref="IArtifactStore"/>, PostgreSQL by default), the task-signing key ring (<see cref="TaskKeyRing"/>, sealed by the
    /// master key) and the index of runs (<see cref="TaskRunIndex"/>). Needs the process's <see cref="Npgsql.NpgsqlDataSource"/>.
    /// </summary>
    public static IHostApplicationBuilder AddExecutionStorage(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddMasterKey();
        builder.AddValidatedOptions<ArtifactStoreOptions>(ArtifactStoreOptions.Section);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<IArtifactStore, PostgresArtifactStore>();
        builder.Services.TryAddSingleton<TaskKeyRing>();
        builder.Services.TryAddSingleton<TaskRunIndex>();
        builder.Services.TryAddSingleton<TaskLogStore>();
        return builder;
    }
}
