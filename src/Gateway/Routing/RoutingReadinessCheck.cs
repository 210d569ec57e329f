using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Outpost.Gateway.Routing;

/// <summary>
/// Part of <c>/readyz</c>: ready once the router has loaded the device list and sees at least
/// <see cref="RoutingOptions.ReadyMinDevices"/> online devices that serve a model and that this gateway can call: the
/// router's list is its own copy, refreshed apart from <c>/v1/devices</c>, and a device whose edge silo joined moments
/// ago is not callable until the gateway's copy of the cluster manifest names that silo. Both are what say that a
/// request can be routed now.
/// </summary>
public sealed class RoutingReadinessCheck(DeviceCatalog catalog, IOptions<RoutingOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!catalog.IsLoaded)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("The router has not loaded the device list yet."));
        }

        var serving = catalog.Devices.Where(d => d.Online && d.Record.Registration.Models.Count > 0 && catalog.TryGetGrain(d.Record.Registration.DeviceId) is not null).ToList();
        var models = string.Join(", ", serving.SelectMany(d => d.Record.Registration.Models).Select(m => m.Name).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
        var seen = string.Create(CultureInfo.InvariantCulture, $"The router sees {serving.Count} online devices with models it can call");
        if (serving.Count < options.Value.ReadyMinDevices)
        {
            // A device that registered since the last refresh should not wait out the interval.
            catalog.RequestRefresh();
            return Task.FromResult(HealthCheckResult.Unhealthy(string.Create(
                CultureInfo.InvariantCulture, $"{seen}; Routing:ReadyMinDevices asks for {options.Value.ReadyMinDevices}.")));
        }

        return Task.FromResult(HealthCheckResult.Healthy(serving.Count == 0 ? $"{seen}." : $"{seen} ({models})."));
    }
}
