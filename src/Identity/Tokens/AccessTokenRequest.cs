namespace Outpost.Identity.Tokens;

/// <summary>
/// What an access token is to say: who (<c>sub</c>), through which client, for which tenant, with which scopes, and for
/// how long (null: <c>Security:AccessTokenLifetime</c>).
/// </summary>
public sealed record AccessTokenRequest(
    string Subject,
    string ClientId,
    string Tenant,
    IReadOnlyCollection<string> Scopes,
    TimeSpan? Lifetime = null);
