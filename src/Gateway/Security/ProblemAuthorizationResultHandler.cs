using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Outpost.Gateway.AuditLogs;
using Outpost.Gateway.Errors;
using Outpost.Identity.Tokens;

namespace Outpost.Gateway.Security;

/// <summary>
/// Answers a missing scope with 403 problem+json and RFC 6750's <c>insufficient_scope</c> challenge naming the scope
/// needed; missing or bad credentials go to the authentication scheme's challenge (401).
/// </summary>
internal sealed class ProblemAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(authorizeResult);
        if (!authorizeResult.Forbidden)
        {
            await _default.HandleAsync(next, context, policy, authorizeResult);
            return;
        }

        var scope = authorizeResult.AuthorizationFailure?.FailedRequirements.OfType<ScopeRequirement>().FirstOrDefault()?.Scope ?? "";
        await WriteInsufficientScopeAsync(context, scope);
    }

    public static async Task WriteInsufficientScopeAsync(HttpContext context, string scope)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Headers.WWWAuthenticate =
            $"Bearer realm=\"{AuthenticationExtensions.Realm}\", error=\"insufficient_scope\", scope=\"{scope}\"";
        AuditFeature.Of(context)?.Deny("insufficient_scope", scope);
        await Problems.WriteAsync(
            context, StatusCodes.Status403Forbidden, "insufficient-scope", "Insufficient scope", $"This request needs the '{scope}' scope, which the token does not carry.");
    }
}
