using Outpost.Grains.Placement;

namespace Outpost.ServiceDefaults.Clustering;

/// <summary>What a silo is for, and so which grain classes it may host and what it advertises.</summary>
public sealed record SiloRole(string Name, string? DeviceId)
{
    /// <summary>The control plane.</summary>
    public static SiloRole Control { get; } = new(SiloRoles.Control, null);

    /// <summary>The silo of edge device <paramref name="deviceId"/>.</summary>
    public static SiloRole Edge(string deviceId) => new(SiloRoles.Edge, deviceId);

    /// <summary>True for an edge device's silo.</summary>
    public bool IsEdge => Name == SiloRoles.Edge;

    /// <summary>The silo metadata placement reads.</summary>
    public Dictionary<string, string> Metadata =>
        DeviceId is null
            ? new() { [SiloRoles.RoleKey] = Name }
            : new() { [SiloRoles.RoleKey] = Name, [SiloRoles.DeviceIdKey] = DeviceId };

    /// <summary>
    /// Whether a grain class may be hosted by a silo of this role. Edge silos carry only device grains (a Pi's memory
    /// is for models, and control-plane state must never land on a device); the control silo carries everything but
    /// device grains, which only make sense next to their hardware.
    /// </summary>
    public bool MayHost(Type grainClass)
    {
        ArgumentNullException.ThrowIfNull(grainClass);
        var isDeviceGrain = grainClass.IsDefined(typeof(DevicePlacementAttribute), inherit: false);
        if (!IsEdge)
        {
            return !isDeviceGrain;
        }

        var isControlPlane = grainClass.IsDefined(typeof(ControlPlaneAttribute), inherit: false)
            || (grainClass.Assembly.GetName().Name?.StartsWith("Orleans.Dashboard", StringComparison.Ordinal) ?? false);
        return !isControlPlane;
    }
}
