namespace Outpost.Gateway.Contracts;

/// <summary><c>POST /v1/admin/tenants/{tenant}/admins</c>: a person who may approve device sign-ins for the tenant.</summary>
public sealed record CreateAdminRequest(string? Username, string? Password);
