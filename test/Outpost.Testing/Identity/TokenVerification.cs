using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Outpost.Identity;

namespace Outpost.Testing.Identity;

/// <summary>Verifies Outpost tokens as a resource server would: signature by kid, issuer, audience, lifetime, typ.</summary>
public static class TokenVerification
{
    public static Task<TokenValidationResult> ValidateAsync(string token, IEnumerable<SecurityKey> keys, SecurityOptions security)
    {
        ArgumentNullException.ThrowIfNull(security);
        return ValidateAsync(token, keys, security.Issuer!.GetLeftPart(UriPartial.Path).TrimEnd('/'), security.Audience);
    }

    public static Task<TokenValidationResult> ValidateAsync(string token, IEnumerable<SecurityKey> keys, string issuer, string audience) =>
        new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = issuer,
            ValidAudience = audience,
            IssuerSigningKeys = keys.ToList(),
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
            ValidTypes = ["at+jwt"],
            ClockSkew = TimeSpan.FromSeconds(30),
            RequireSignedTokens = true,
            RequireExpirationTime = true,
        });
}
