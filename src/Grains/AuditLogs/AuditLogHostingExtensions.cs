using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Outpost.AuditLog;
using Outpost.ServiceDefaults.Configuration;

namespace Outpost.Grains.AuditLogs;

public static class AuditLogHostingExtensions
{
    /// <summary>
    /// What a control silo needs to host audit logs: the audit log's storage, signer and verifier (shared with the
    /// gateway and the admin CLI, <see cref="AuditLogStorageExtensions.AddAuditLogStorage"/>), the grains' options, the
    /// witness, and the sweeper that logs events left waiting in the audit intake.
    /// </summary>
    public static IHostApplicationBuilder AddAuditLogs(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddAuditLogStorage();
        builder.AddValidatedOptions<AuditLogOptions>(AuditLogOptions.Section);
        builder.Services.AddSingleton<AuditWitness>();
        builder.Services.AddHostedService<AuditIntakeSweeper>();
        return builder;
    }
}
