using Outpost.ServiceDefaults.Configuration;

namespace Outpost.Gateway.Routing;

public static class RoutingExtensions
{
    /// <summary>
    /// Edge routing: the <c>Routing</c> options, the catalog of devices and their tenant assignments (refreshed in the
    /// background) and the router that picks a device for each call. Needs the identity library's assignment store.
    /// </summary>
    public static WebApplicationBuilder AddEdgeRouting(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddValidatedOptions<RoutingOptions>(RoutingOptions.Section);
        builder.Services.AddSingleton<DeviceCatalog>();
        builder.Services.AddHostedService(services => services.GetRequiredService<DeviceCatalog>());
        builder.Services.AddSingleton<EdgeRouter>();
        return builder;
    }
}
