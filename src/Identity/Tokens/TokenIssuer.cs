using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Outpost.Identity.SigningKeys;

namespace Outpost.Identity.Tokens;

/// <summary>Issues RFC 9068 JWT access tokens (<c>typ: at+jwt</c>) signed with the active key.</summary>
public sealed class TokenIssuer
{
    /// <summary>The JOSE <c>typ</c> of access tokens, RFC 9068 §2.1.</summary>
    public const string TokenType = "at+jwt";

    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    private readonly SigningKeyStore _keys;
    private readonly SecurityOptions _security;
    private readonly TimeProvider _timeProvider;

    public TokenIssuer(SigningKeyStore keys, IOptions<SecurityOptions> security, IConfiguration configuration, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(security);
        _keys = keys;
        _security = security.Value;
        _timeProvider = timeProvider;
        Issuer = OutpostIssuer.Resolve(_security, configuration);
    }

    /// <summary>The <c>iss</c> of every token issued here.</summary>
    public string Issuer { get; }

    public string Audience => _security.Audience;

    public async Task<IssuedToken> IssueAsync(AccessTokenRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var lifetime = request.Lifetime ?? _security.AccessTokenLifetime;
        if (lifetime <= TimeSpan.Zero)
        {
            throw new IdentityStoreException(IdentityError.Invalid, "the token lifetime must be positive.");
        }

        var credentials = await _keys.GetSigningKeyAsync(cancellationToken);
        var scopes = ScopeList.Normalize(request.Scopes);
        var tokenId = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16));

        // Whole seconds, as the JWT NumericDate is; the response's expires_in must agree with exp.
        var now = DateTimeOffset.FromUnixTimeSeconds(_timeProvider.GetUtcNow().ToUnixTimeSeconds());
        var expires = now + lifetime;
        var token = Handler.CreateToken(new SecurityTokenDescriptor
        {
            TokenType = TokenType,
            Issuer = Issuer,
            Audience = _security.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = credentials,
            Claims = new Dictionary<string, object>
            {
                [OutpostClaims.Subject] = request.Subject,
                [OutpostClaims.ClientId] = request.ClientId,
                [OutpostClaims.Tenant] = request.Tenant,
                [OutpostClaims.Scope] = ScopeList.Format(scopes),
                [OutpostClaims.TokenId] = tokenId,
            },
        });
        return new IssuedToken(token, tokenId, credentials.Key.KeyId, expires, lifetime, scopes);
    }
}
