using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Outpost.ServiceDefaults.Configuration;
using Outpost.ServiceDefaults.Security;

namespace Outpost.Grains.AuditLogs;

public static class AuditLogHostingExtensions
{
    /// <summary>
    /// What a control silo needs to host audit logs: the options, the signer with the master key that seals the
    /// audit key (<c>Security:MasterKeyFile</c>, the file the gateway uses too), the witness, and the sweeper that logs
    /// events left waiting in the audit intake.
    /// </summary>
    public static IHostApplicationBuilder AddAuditLogs(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddValidatedOptions<AuditLogOptions>(AuditLogOptions.Section);
        var masterKey = MasterKey.Load(
            builder.Configuration[MasterKey.FileKey],
            builder.Configuration.GetValue<bool>(MasterKey.CreateKey));
        builder.Services.AddSingleton(masterKey);
        builder.Services.AddSingleton<AuditSigner>();
        builder.Services.AddSingleton<AuditWitness>();
        builder.Services.AddSingleton<AuditIntake>();
        builder.Services.AddHostedService<AuditIntakeSweeper>();
        return builder;
    }
}
