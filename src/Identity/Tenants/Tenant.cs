namespace Outpost.Identity.Tenants;

/// <summary>A tenant: the namespace every grain key, cache entry and audit stream of its clients lives in.</summary>
public sealed record Tenant(string TenantId, string DisplayName, DateTimeOffset CreatedAt);
