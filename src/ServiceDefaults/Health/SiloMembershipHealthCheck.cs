using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Outpost.ServiceDefaults.Health;

/// <summary>Ready once this silo is an active member of the cluster, and no longer once it is leaving it.</summary>
internal sealed class SiloMembershipHealthCheck(ISiloStatusOracle membership) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(membership.CurrentStatus == SiloStatus.Active
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy($"Silo status is {membership.CurrentStatus}."));
}
