namespace Outpost.Identity.Tenants;

/// <summary>Which tenant an edge device serves; a null tenant means the device is shared by all tenants.</summary>
public sealed record DeviceAssignment(string DeviceId, string? TenantId, DateTimeOffset UpdatedAt)
{
    public bool IsShared => TenantId is null;
}
