namespace Outpost.Identity;

/// <summary>The claims Outpost's access tokens carry (RFC 9068 names where there is one).</summary>
public static class OutpostClaims
{
    public const string Subject = "sub";
    public const string ClientId = "client_id";
    public const string Scope = "scope";
    public const string Tenant = "tenant";
    public const string TokenId = "jti";

    /// <summary>The tenant of the platform's operators; its admins may manage every tenant.</summary>
    public const string SystemTenant = "system";
}
