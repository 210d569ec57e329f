namespace Outpost.Grains;

/// <summary>
/// The names grain state is stored under. Renaming one orphans every stored row of it. Orleans' ADO.NET storage keys a
/// row by state name and grain key, not by grain class, so no two grain classes may share a name.
/// </summary>
internal static class StateNames
{
    public const string TenantQuota = "quota";
    public const string AuditLog = "audit";
    public const string TaskRun = "run";
    public const string DeviceDirectory = "devices";
}
