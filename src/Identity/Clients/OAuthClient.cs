namespace Outpost.Identity.Clients;

/// <summary>A registered OAuth client of one tenant; never carries its secret or the secret's hash.</summary>
public sealed record OAuthClient(
    string ClientId,
    string TenantId,
    string Name,
    ClientKind Kind,
    IReadOnlyList<string> AllowedScopes,
    string? CertificateThumbprint,
    DateTimeOffset CreatedAt,
    DateTimeOffset? DisabledAt)
{
    public bool IsDisabled => DisabledAt is not null;
}
