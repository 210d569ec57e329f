namespace Outpost.EdgeSilo.EdgeDevices;

/// <summary>
/// The names the device's grain state is stored under. Orleans' ADO.NET storage keys rows by state name and grain key,
/// so these must differ from every control-plane state name (src/Grains/StateNames.cs).
/// </summary>
internal static class EdgeStateNames
{
    public const string Device = "device";
}
