using System.Security.Claims;
using Outpost.Identity;
using Outpost.Identity.Tokens;

namespace Outpost.Gateway.Security;

/// <summary>Who is calling: the authenticated principal's tenant, client and subject.</summary>
public sealed record CallerContext(string Tenant, string ClientId, string Subject)
{
    /// <summary>The caller of an authenticated request. Endpoints behind a scope policy always have one.</summary>
    public static CallerContext From(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var tenant = user.FindFirstValue(OutpostClaims.Tenant);
        if (string.IsNullOrEmpty(tenant))
        {
            // Validation refuses tokens without a tenant; reaching here is a wiring bug, not the caller's fault.
            throw new InvalidOperationException("An authenticated principal has no tenant claim.");
        }

        var client = user.FindFirstValue(OutpostClaims.ClientId) ?? "unknown";
        return new CallerContext(tenant, client, user.FindFirstValue(OutpostClaims.Subject) ?? client);
    }

    /// <summary>
    /// Checks a scope inside a handler, for endpoints whose scope depends on the body (e.g. <c>/v1/infer</c>'s task).
    /// </summary>
    public static void RequireScope(ClaimsPrincipal user, string scope)
    {
        if (!ScopeRequirement.Holds(user, scope))
        {
            throw new InsufficientScopeException(scope);
        }
    }
}
