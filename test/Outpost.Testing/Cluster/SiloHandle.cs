using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Outpost.Testing.Cluster;

/// <summary>A silo started in this process by <see cref="OutpostCluster"/>.</summary>
public sealed class SiloHandle(IHost host, string? deviceId)
{
    public IHost Host { get; } = host;

    /// <summary>The device this edge silo serves, or null for the control silo.</summary>
    public string? DeviceId { get; } = deviceId;

    public SiloAddress Address { get; } = host.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;

    public bool IsStopped { get; internal set; }
}
