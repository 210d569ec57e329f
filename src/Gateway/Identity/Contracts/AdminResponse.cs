namespace Outpost.Gateway.Identity.Contracts;

public sealed record AdminResponse(string TenantId, string Username);
