namespace Outpost.Identity.Clients;

/// <summary>A newly registered client and, for a confidential one, its secret: the only time the secret exists in clear.</summary>
public sealed record CreatedClient(OAuthClient Client, string? Secret);
