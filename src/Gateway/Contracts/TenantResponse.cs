using Outpost.Identity.Tenants;

namespace Outpost.Gateway.Contracts;

public sealed record TenantResponse(string TenantId, string DisplayName, DateTimeOffset CreatedAt)
{
    public static TenantResponse From(Tenant tenant)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        return new(tenant.TenantId, tenant.DisplayName, tenant.CreatedAt);
    }
}
