using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Outpost.AuditLog.Signing;
using Outpost.AuditLog.Storage;
using Outpost.AuditLog.Verification;
using Outpost.ServiceDefaults.Security;

namespace Outpost.AuditLog;

public static class AuditLogStorageExtensions
{
    /// <summary>
    /// The audit log as every process that touches it sees it: the tables (<see cref="AuditStore"/>), the intake
    /// gateways stage events in (<see cref="AuditIntake"/>), the signer with the master key that seals the audit key
    /// (<see cref="AuditSigner"/>), and the verifier (<see cref="AuditVerifier"/>). The control silo, the gateway and
    /// the admin CLI call this one method, so all three read, sign and verify with the same code. Needs the
    /// <see cref="Npgsql.NpgsqlDataSource"/> that the database setup registers.
    /// </summary>
    public static IHostApplicationBuilder AddAuditLogStorage(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddMasterKey();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<AuditStore>();
        builder.Services.TryAddSingleton<AuditIntake>();
        builder.Services.TryAddSingleton<AuditSigner>();
        builder.Services.TryAddSingleton<AuditVerifier>();
        return builder;
    }
}
