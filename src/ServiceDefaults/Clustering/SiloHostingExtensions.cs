using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Storage;
using Outpost.Grains;
using Outpost.Grains.Placement;
using Outpost.ServiceDefaults.ClusterTls;
using Outpost.ServiceDefaults.Configuration;
using Outpost.ServiceDefaults.Database;
using Outpost.ServiceDefaults.Placement;

namespace Outpost.ServiceDefaults.Clustering;

/// <summary>Composes an Outpost silo: PostgreSQL for membership, state and reminders; placement by role and device.</summary>
public static class SiloHostingExtensions
{
    /// <summary>
    /// Adds an Orleans silo of the given role to the host. Reads <c>ConnectionStrings:Outpost</c> and the
    /// <c>Cluster</c> section, and throws <see cref="StartupConfigurationException"/> when either is wrong.
    /// </summary>
    public static IHostApplicationBuilder AddOutpostSilo(this IHostApplicationBuilder builder, SiloRole role, Action<ISiloBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(role);
        var dataSource = builder.AddOutpostDatabase();
        var cluster = builder.AddValidatedOptions<OutpostClusterOptions>(OutpostClusterOptions.Section);
        if (!IPAddress.TryParse(cluster.AdvertisedAddress, out var advertised))
        {
            throw new StartupConfigurationException($"{OutpostClusterOptions.Section}:AdvertisedAddress: '{cluster.AdvertisedAddress}' is not an IP address.");
        }

        builder.Services.AddHostedService<DatabasePreflight>();
        builder.WarnWhenClusterTlsDisabled();
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = cluster.ClusterId;
                o.ServiceId = cluster.ServiceId;
            });
            silo.Configure<SiloOptions>(o => o.SiloName = role.DeviceId is { } id ? $"edge-{id}" : $"control-{Environment.MachineName}");
            silo.ConfigureEndpoints(advertised, cluster.SiloPort, cluster.GatewayPort, listenOnAnyHostAddress: false);
            silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = cluster.ResponseTimeout);
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = cluster.ProbeTimeout;
                o.NumMissedProbesLimit = cluster.MissedProbesLimit;
            });
            silo.UseAdoNetClustering(o =>
            {
                o.Invariant = OutpostDatabase.Invariant;
                o.ConnectionString = dataSource.ConnectionString;
            });
            silo.AddAdoNetGrainStorage(StorageNames.Default, o =>
            {
                o.Invariant = OutpostDatabase.Invariant;
                o.DataSource = dataSource;
            });
            silo.Services.AddOptions<AdoNetGrainStorageOptions>(StorageNames.Default)
                .PostConfigure<IServiceProvider>((o, services) =>
                    o.GrainStorageSerializer = ActivatorUtilities.CreateInstance<OrleansGrainStorageSerializer>(services));
            silo.UseAdoNetReminderService(o =>
            {
                o.Invariant = OutpostDatabase.Invariant;
                o.ConnectionString = dataSource.ConnectionString;
            });

            var identity = role.DeviceId is { } device ? NodeIdentity.EdgeDevice(device) : NodeIdentity.ControlPlane;
            silo.UseClusterTls(builder.Configuration, identity);

            silo.UseSiloMetadata(role.Metadata);
            silo.Services.AddPlacementDirector<DevicePlacementStrategy, DevicePlacementDirector>();
            silo.Services.AddPlacementFilter<ControlPlanePlacementFilterStrategy, ControlPlanePlacementFilterDirector>(ServiceLifetime.Singleton);
            silo.Services.PostConfigure<GrainTypeOptions>(o => o.Classes.RemoveWhere(type => !role.MayHost(type)));

            configure?.Invoke(silo);
        });

        return builder;
    }
}
