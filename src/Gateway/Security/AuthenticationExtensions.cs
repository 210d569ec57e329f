using Microsoft.AspNetCore.Authentication.JwtBearer;
using Outpost.Gateway.AuditLogs;
using Outpost.Gateway.Errors;
using Outpost.Identity;
using Outpost.Identity.Tokens;

namespace Outpost.Gateway.Security;

/// <summary>
/// Nothing reaches a grain without an authenticated identity, a tenant and the scope for the action: bearer tokens as
/// <see cref="TokenValidationExtensions.AddOutpostTokenValidation"/> verifies them, or registered client certificates;
/// a refusal is a 401 problem+json with the RFC 6750 challenge.
/// </summary>
public static class AuthenticationExtensions
{
    public const string Realm = "outpost";

    public static WebApplicationBuilder AddOutpostAuthentication(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddClientCertificates();
        builder.AddOutpostTokenValidation(events => events.OnChallenge = WriteChallengeAsync);
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

    /// <summary>401 as problem+json, with the RFC 6750 challenge: no error code when no token was sent.</summary>
    private static async Task WriteChallengeAsync(JwtBearerChallengeContext context)
    {
        context.HandleResponse();
        var http = context.HttpContext;
        var (header, detail) = context.AuthenticateFailure switch
        {
            null when string.IsNullOrEmpty(http.Request.Headers.Authorization) =>
                ($"Bearer realm=\"{Realm}\"", "This endpoint needs a bearer access token."),
            { } failure => ($"Bearer realm=\"{Realm}\", error=\"invalid_token\", error_description=\"{TokenValidationExtensions.Describe(failure)}\"", TokenValidationExtensions.Describe(failure)),
            null => ($"Bearer realm=\"{Realm}\", error=\"invalid_token\", error_description=\"The token is not valid.\"", "The token is not valid."),
        };
        http.Response.StatusCode = StatusCodes.Status401Unauthorized;
        http.Response.Headers.WWWAuthenticate = header;
        AuditFeature.Of(http)?.Deny("unauthenticated", detail);
        await Problems.WriteAsync(http, StatusCodes.Status401Unauthorized, "unauthorized", "Unauthorized", detail);
    }
}
