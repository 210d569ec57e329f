namespace Outpost.Gateway.Contracts;

/// <summary><c>POST /v1/admin/tenants</c>.</summary>
public sealed record CreateTenantRequest(string? TenantId, string? DisplayName);
