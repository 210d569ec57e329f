using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Outpost.ServiceDefaults.ClusterTls;
using Outpost.ServiceDefaults.Configuration;
using Outpost.ServiceDefaults.Database;

namespace Outpost.ServiceDefaults.Clustering;

/// <summary>Composes an Orleans client that finds the cluster's gateways in PostgreSQL.</summary>
public static class ClientHostingExtensions
{
    public static IHostApplicationBuilder AddOutpostClusterClient(this IHostApplicationBuilder builder)
    {
        var dataSource = builder.AddOutpostDatabase();
        var cluster = builder.AddValidatedOptions<OutpostClusterOptions>(OutpostClusterOptions.Section);
        builder.Services.AddHostedService<DatabasePreflight>();
        builder.WarnWhenClusterTlsDisabled();
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = cluster.ClusterId;
                o.ServiceId = cluster.ServiceId;
            });
            client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = cluster.ResponseTimeout);
            // Edge silos come and go; the gateway must learn a new device's grain types in seconds, not the default minute.
            client.Configure<TypeManagementOptions>(o => o.TypeMapRefreshInterval = TimeSpan.FromSeconds(2));
            client.UseClusterTls(builder.Configuration);

            client.UseAdoNetClustering(o =>
            {
                o.Invariant = OutpostDatabase.Invariant;
                o.ConnectionString = dataSource.ConnectionString;
            });
        });
        return builder;
    }
}
