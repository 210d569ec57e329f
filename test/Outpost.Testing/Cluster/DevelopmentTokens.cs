using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Outpost.Testing.Cluster;

/// <summary>Mints HS256 access tokens for a gateway running with a development secret, and deliberately bad ones.</summary>
public static class DevelopmentTokens
{
    public static string Create(
        byte[] key, string issuer, string audience, string tenant, IEnumerable<string> scopes, TimeSpan lifetime, string clientId,
        DateTime? now = null, string algorithm = SecurityAlgorithms.HmacSha256)
    {
        var issuedAt = now ?? DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = issuedAt,
            NotBefore = issuedAt,
            Expires = issuedAt + lifetime,
            TokenType = "at+jwt",
            Subject = new ClaimsIdentity(
            [
                new Claim("sub", clientId),
                new Claim("client_id", clientId),
                new Claim("tenant", tenant),
                new Claim("scope", string.Join(' ', scopes)),
                new Claim("jti", Guid.NewGuid().ToString("N")),
            ]),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key) { KeyId = "development-hs256" }, algorithm),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }
}
