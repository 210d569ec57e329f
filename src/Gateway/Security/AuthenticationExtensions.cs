using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;
using Outpost.Gateway.AuditLogs;
using Outpost.Gateway.Errors;
using Outpost.Identity;
using Outpost.Identity.SigningKeys;
using Outpost.Identity.Tokens;
using Outpost.ServiceDefaults.Configuration;

namespace Outpost.Gateway.Security;

/// <summary>
/// Nothing reaches a grain without an authenticated identity, a tenant and the scope for the action. Bearer tokens are
/// RFC 9068 access tokens from Outpost's own issuer (ES256) or an external identity provider's JWKS (ES256/RS256);
/// HS256 only when a development secret is configured; unsigned tokens never.
/// </summary>
public static class AuthenticationExtensions
{
    public const string Realm = "outpost";

    public static WebApplicationBuilder AddOutpostAuthentication(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var security = builder.AddValidatedOptions<SecurityOptions>(SecurityOptions.Section);
        if (security.ExternalJwksUrl is not null && string.IsNullOrWhiteSpace(security.ExternalIssuer))
        {
            throw new StartupConfigurationException($"{SecurityOptions.Section}:ExternalIssuer is missing: it is required with {SecurityOptions.Section}:ExternalJwksUrl.");
        }

        var hs256 = DevelopmentKey(security);
        var issuer = (security.Issuer ?? throw new StartupConfigurationException(
            $"{SecurityOptions.Section}:Issuer is missing: set it to the gateway's public base URL, e.g. https://outpost.example.com.")).AbsoluteUri.TrimEnd('/');

        builder.Services.AddSingleton<ExternalJwks>();
        builder.AddClientCertificates();
        builder.Services.AddAuthentication()
            .AddJwtBearer(o =>
            {
                o.MapInboundClaims = false;
                o.IncludeErrorDetails = false;
                o.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuers = security.ExternalIssuer is null ? [issuer] : [issuer, security.ExternalIssuer],
                    ValidAudience = security.Audience,
                    ValidateLifetime = true,
                    RequireExpirationTime = true,
                    RequireSignedTokens = true,
                    ClockSkew = security.ClockSkew,
                    ValidAlgorithms = hs256 is null
                        ? [SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.RsaSha256]
                        : [SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.RsaSha256, SecurityAlgorithms.HmacSha256],
                    NameClaimType = OutpostClaims.Subject,
                };
                o.Events = new JwtBearerEvents
                {
                    OnTokenValidated = RequireTenant,
                    OnChallenge = WriteChallengeAsync,
                };
            });
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IValidationKeySource, ExternalJwks>((o, own, external) =>
                o.TokenValidationParameters.IssuerSigningKeyResolver = (_, token, _, _) =>
                    // Each issuer's tokens verify only with that issuer's keys.
                    string.Equals(token.Issuer, security.ExternalIssuer, StringComparison.Ordinal)
                        ? external.Keys
                        : hs256 is null ? own.ValidationKeys : own.ValidationKeys.Append(hs256));

        builder.Services.AddAuthorization(o =>
        {
            // Least privilege by default: an endpoint that names no policy still needs an authenticated caller.
            o.FallbackPolicy = new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build();
            foreach (var scope in Scopes.All)
            {
                o.AddPolicy(scope, policy => policy.RequireAuthenticatedUser().AddRequirements(new ScopeRequirement(scope)));
            }
        });
        builder.Services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();
        return builder;
    }

    private static SymmetricSecurityKey? DevelopmentKey(SecurityOptions security)
    {
        if (string.IsNullOrWhiteSpace(security.DevelopmentHs256Secret))
        {
            return null;
        }

        var bytes = new byte[security.DevelopmentHs256Secret.Length];
        if (!Convert.TryFromBase64String(security.DevelopmentHs256Secret, bytes, out var length) || length < 32)
        {
            throw new StartupConfigurationException($"{SecurityOptions.Section}:DevelopmentHs256Secret must be at least 32 bytes, base64-encoded.");
        }

        return new SymmetricSecurityKey(bytes[..length]) { KeyId = "development-hs256" };
    }

    private static Task RequireTenant(TokenValidatedContext context)
    {
        var tenant = context.Principal?.FindFirstValue(OutpostClaims.Tenant);
        if (string.IsNullOrWhiteSpace(tenant))
        {
            context.Fail("The token has no tenant claim.");
        }

        return Task.CompletedTask;
    }

    /// <summary>401 as problem+json, with the RFC 6750 challenge: no error code when no token was sent.</summary>
    private static async Task WriteChallengeAsync(JwtBearerChallengeContext context)
    {
        context.HandleResponse();
        var http = context.HttpContext;
        var (header, detail) = context.AuthenticateFailure switch
        {
            null when string.IsNullOrEmpty(http.Request.Headers.Authorization) =>
                ($"Bearer realm=\"{Realm}\"", "This endpoint needs a bearer access token."),
            { } failure => ($"Bearer realm=\"{Realm}\", error=\"invalid_token\", error_description=\"{Describe(failure)}\"", Describe(failure)),
            null => ($"Bearer realm=\"{Realm}\", error=\"invalid_token\", error_description=\"The token is not valid.\"", "The token is not valid."),
        };
        http.Response.StatusCode = StatusCodes.Status401Unauthorized;
        http.Response.Headers.WWWAuthenticate = header;
        AuditFeature.Of(http)?.Deny("unauthenticated", detail);
        await Problems.WriteAsync(http, StatusCodes.Status401Unauthorized, "unauthorized", "Unauthorized", detail);
    }

    private static string Describe(Exception failure) => failure switch
    {
        SecurityTokenExpiredException => "The token has expired.",
        SecurityTokenNotYetValidException => "The token is not valid yet.",
        SecurityTokenInvalidAudienceException => "The token was issued for another audience.",
        SecurityTokenInvalidIssuerException => "The token's issuer is not trusted.",
        SecurityTokenInvalidAlgorithmException => "The token's signing algorithm is not accepted.",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "The token's signature is not valid.",
        SecurityTokenNoExpirationException => "The token has no expiry.",
        SecurityTokenMalformedException or ArgumentException => "The token is malformed.",
        _ when failure.Message == "The token has no tenant claim." => failure.Message,
        _ => "The token is not valid.",
    };
}
