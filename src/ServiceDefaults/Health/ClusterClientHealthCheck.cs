using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Outpost.ServiceDefaults.Health;

/// <summary>Ready while the client can get an answer from the cluster through one of its gateways.</summary>
internal sealed class ClusterClientHealthCheck(IClusterClient client) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var management = client.GetGrain<IManagementGrain>(0);
            var hosts = await management.GetHosts(onlyActive: true, cancellationToken).WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
            return HealthCheckResult.Healthy($"{hosts.Count} active silos.");
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return HealthCheckResult.Unhealthy("The cluster did not answer.");
        }
    }
}
