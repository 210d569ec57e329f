using Outpost.Identity.Tenants;

namespace Outpost.Gateway.Contracts;

public sealed record DeviceAssignmentResponse(string DeviceId, string? Tenant, bool Shared, DateTimeOffset UpdatedAt)
{
    public static DeviceAssignmentResponse From(DeviceAssignment assignment)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        return new(assignment.DeviceId, assignment.TenantId, assignment.IsShared, assignment.UpdatedAt);
    }
}
