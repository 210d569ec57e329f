namespace Outpost.Identity.Tokens;

/// <summary>A signed access token and the facts a token response reports about it.</summary>
public sealed record IssuedToken(
    string AccessToken,
    string TokenId,
    string Kid,
    DateTimeOffset ExpiresAt,
    TimeSpan Lifetime,
    IReadOnlyList<string> Scopes)
{
    /// <summary>The scopes as the <c>scope</c> claim and token response carry them.</summary>
    public string Scope => ScopeList.Format(Scopes);
}
