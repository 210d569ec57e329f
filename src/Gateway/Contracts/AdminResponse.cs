namespace Outpost.Gateway.Contracts;

public sealed record AdminResponse(string TenantId, string Username);
