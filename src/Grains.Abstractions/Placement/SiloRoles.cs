namespace Outpost.Grains.Placement;

/// <summary>
/// The silo metadata keys and values that say what a silo is for. Placement reads them, so they are part of the
/// cluster's contract: a control silo and an edge silo of different builds must agree on them.
/// </summary>
public static class SiloRoles
{
    /// <summary>Metadata key holding the silo's role.</summary>
    public const string RoleKey = "role";

    /// <summary>Metadata key holding the edge device id an edge silo serves.</summary>
    public const string DeviceIdKey = "device-id";

    /// <summary>The control plane: quotas, audit, task runs, the dashboard.</summary>
    public const string Control = "control";

    /// <summary>An edge device's silo: hosts only that device's grain.</summary>
    public const string Edge = "edge";
}
