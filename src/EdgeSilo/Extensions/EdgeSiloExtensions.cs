using Outpost.EdgeSilo.EdgeDevices;
using Outpost.ServiceDefaults.Clustering;
using Outpost.ServiceDefaults.Configuration;

namespace Outpost.EdgeSilo.Extensions;

public static class EdgeSiloExtensions
{
    /// <summary>
    /// Adds the edge silo for the device named by <c>Edge:DeviceId</c>: no client gateway (the gateway never talks to a
    /// device directly) and only the device grain.
    /// </summary>
    public static IHostApplicationBuilder AddEdgeSilo(this IHostApplicationBuilder builder)
    {
        var edge = builder.AddValidatedOptions<EdgeOptions>(EdgeOptions.Section);
        if (builder.Configuration[$"{OutpostClusterOptions.Section}:{nameof(OutpostClusterOptions.GatewayPort)}"] is null)
        {
            builder.Configuration[$"{OutpostClusterOptions.Section}:{nameof(OutpostClusterOptions.GatewayPort)}"] = "0";
        }

        builder.AddOutpostSilo(SiloRole.Edge(edge.DeviceId), silo =>
            silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, DeviceLifecycle>());
        return builder;
    }
}
