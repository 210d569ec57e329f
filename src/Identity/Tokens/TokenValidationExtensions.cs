using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.IdentityModel.Tokens;
using Outpost.Identity.SigningKeys;
using Outpost.Identity.Tenants;
using Outpost.ServiceDefaults.Configuration;
using Outpost.ServiceDefaults.Security;

namespace Outpost.Identity.Tokens;

public static class TokenValidationExtensions
{
    /// <summary>
    /// Verifies Outpost's bearer tokens, for every process that accepts them (the gateway's API, the control silo's
    /// dashboard): RFC 9068 access tokens from Outpost's own issuer (ES256, the keys in PostgreSQL, refreshed in the
    /// background) or an external identity provider's JWKS (ES256/RS256); HS256 only when a development secret is
    /// configured; unsigned tokens never; a token without a tenant never. <paramref name="events"/> adds the host's own
    /// handling (how it challenges, where else it finds a token).
    /// </summary>
    public static AuthenticationBuilder AddOutpostTokenValidation(this IHostApplicationBuilder builder, Action<JwtBearerEvents>? events = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var security = builder.AddValidatedOptions<SecurityOptions>(SecurityOptions.Section);
        if (security.ExternalJwksUrl is not null && string.IsNullOrWhiteSpace(security.ExternalIssuer))
        {
            throw new StartupConfigurationException($"{SecurityOptions.Section}:ExternalIssuer is missing: it is required with {SecurityOptions.Section}:ExternalJwksUrl.");
        }

        if (security.ExternalJwksUrl is not null && security.ExternalTenants.Count == 0)
        {
            throw new StartupConfigurationException(
                $"{SecurityOptions.Section}:ExternalTenants is missing: list the tenants the external issuer's tokens may claim (system only if it may act as the operators).");
        }

        if (security.ExternalTenants.FirstOrDefault(tenant => !TenantStore.IsValidId(tenant)) is { } invalid)
        {
            throw new StartupConfigurationException($"{SecurityOptions.Section}:ExternalTenants: '{invalid}' is not a valid tenant id.");
        }

        var externalTenants = security.ExternalTenants.ToHashSet(StringComparer.Ordinal);

        var hs256 = DevelopmentKey(security);
        var issuer = (security.Issuer ?? throw new StartupConfigurationException(
            $"{SecurityOptions.Section}:Issuer is missing: set it to the gateway's public base URL, e.g. https://outpost.example.com.")).AbsoluteUri.TrimEnd('/');

        // Outpost's own public keys: the same store the authorization server signs with, read-only here.
        builder.AddValidatedOptions<SigningKeyOptions>(SigningKeyOptions.Section);
        builder.AddMasterKey();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<SigningKeyStore>();
        builder.Services.TryAddSingleton<IValidationKeySource>(services => services.GetRequiredService<SigningKeyStore>());
        builder.Services.AddHostedService<SigningKeyRefreshService>();
        builder.Services.TryAddSingleton<ExternalJwks>();
        builder.Services.TryAddSingleton<DisabledClients>();

        var authentication = builder.Services.AddAuthentication().AddJwtBearer(o =>
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
                OnTokenValidated = context => RequireTenant(context, security.ExternalIssuer, externalTenants, issuer),
            };
            events?.Invoke(o.Events);
        });
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IValidationKeySource, ExternalJwks>((o, own, external) =>
                o.TokenValidationParameters.IssuerSigningKeyResolver = (_, token, _, _) =>
                    // Each issuer's tokens verify only with that issuer's keys.
                    string.Equals(token.Issuer, security.ExternalIssuer, StringComparison.Ordinal)
                        ? external.Keys
                        : hs256 is null ? own.ValidationKeys : own.ValidationKeys.Append(hs256));
        return authentication;
    }

    /// <summary>Why a token was refused, in words fit for the caller (never the token, never a stack trace).</summary>
    public static string Describe(Exception failure) => failure switch
    {
        SecurityTokenExpiredException => "The token has expired.",
        SecurityTokenNotYetValidException => "The token is not valid yet.",
        SecurityTokenInvalidAudienceException => "The token was issued for another audience.",
        SecurityTokenInvalidIssuerException => "The token's issuer is not trusted.",
        SecurityTokenInvalidAlgorithmException => "The token's signing algorithm is not accepted.",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "The token's signature is not valid.",
        SecurityTokenNoExpirationException => "The token has no expiry.",
        SecurityTokenMalformedException or ArgumentException => "The token is malformed.",
        _ when failure.Message is NoTenant or BadTenant or ForeignTenant or DisabledClient => failure.Message,
        _ => "The token is not valid.",
    };

    private const string NoTenant = "The token has no tenant claim.";
    private const string BadTenant = "The token's tenant claim is not a valid tenant id.";
    private const string ForeignTenant = "The token's issuer may not act for its tenant.";
    private const string DisabledClient = "The token's client is disabled.";

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

    /// <summary>
    /// Every token names a well-formed tenant, and an external issuer's token only one of the tenants it is configured
    /// for: a compromised or misconfigured identity provider cannot mint operators or reach other tenants.
    /// </summary>
    private static Task RequireTenant(TokenValidatedContext context, string? externalIssuer, HashSet<string> externalTenants, string ownIssuer)
    {
        var tenant = context.Principal?.FindFirstValue(OutpostClaims.Tenant);
        if (string.IsNullOrWhiteSpace(tenant))
        {
            context.Fail(NoTenant);
        }
        else if (!TenantStore.IsValidId(tenant))
        {
            context.Fail(BadTenant);
        }
        else if (externalIssuer is not null
            && string.Equals(context.SecurityToken.Issuer, externalIssuer, StringComparison.Ordinal)
            && !externalTenants.Contains(tenant))
        {
            context.Fail(ForeignTenant);
        }
        else if (string.Equals(context.SecurityToken.Issuer, ownIssuer, StringComparison.Ordinal)
            && context.Principal?.FindFirstValue(OutpostClaims.ClientId) is { } clientId
            && context.HttpContext.RequestServices.GetRequiredService<DisabledClients>().Contains(clientId))
        {
            context.Fail(DisabledClient);
        }

        return Task.CompletedTask;
    }
}
