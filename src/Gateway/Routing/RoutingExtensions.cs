using Outpost.ServiceDefaults.Configuration;
using Outpost.ServiceDefaults.Health;

namespace Outpost.Gateway.Routing;

public static class RoutingExtensions
{
    /// <summary>
    /// Edge routing: the <c>Routing</c> options, the catalog of devices and their tenant assignments (refreshed in the
    /// background), the router that picks a device for each call, and the readiness check that waits for the router's devices. Needs the identity library's assignment store.
    /// </summary>
    public static WebApplicationBuilder AddEdgeRouting(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddValidatedOptions<RoutingOptions>(RoutingOptions.Section);
        builder.Services.AddSingleton<DeviceCatalog>();
        builder.Services.AddHostedService(services => services.GetRequiredService<DeviceCatalog>());
        builder.Services.AddSingleton<EdgeRouter>();
        builder.Services.AddHealthChecks().AddCheck<RoutingReadinessCheck>("routing", tags: [HealthEndpoints.ReadyTag]);
        return builder;
    }
}
