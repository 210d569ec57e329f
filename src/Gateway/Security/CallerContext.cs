using System.Security.Claims;
using Outpost.Gateway.Errors;
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

/// <summary>The token is valid but lacks <see cref="Scope"/>: 403 with <c>error="insufficient_scope"</c>.</summary>
public sealed class InsufficientScopeException : Exception
{
    public InsufficientScopeException()
    {
    }

    public InsufficientScopeException(string scope)
        : base($"This request needs the '{scope}' scope, which the token does not carry.") => Scope = scope;

    public InsufficientScopeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public string Scope { get; } = "";

    public ProblemException ToProblem() => new(StatusCodes.Status403Forbidden, "insufficient-scope", "Insufficient scope", Message);
}
