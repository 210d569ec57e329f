using Outpost.Identity.Clients;

namespace Outpost.Gateway.Contracts;

/// <summary>A registered client as the admin API shows it: never its secret, not even hashed.</summary>
public sealed record ClientResponse(
    string ClientId,
    string TenantId,
    string Name,
    string Kind,
    IReadOnlyList<string> AllowedScopes,
    string? CertificateThumbprint,
    DateTimeOffset CreatedAt,
    DateTimeOffset? DisabledAt)
{
    public const string Public = "public";
    public const string Confidential = "confidential";

    public static ClientResponse From(OAuthClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new(
            client.ClientId,
            client.TenantId,
            client.Name,
            client.Kind == ClientKind.Public ? Public : Confidential,
            client.AllowedScopes,
            client.CertificateThumbprint,
            client.CreatedAt,
            client.DisabledAt);
    }
}
