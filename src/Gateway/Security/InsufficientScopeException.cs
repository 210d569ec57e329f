using Outpost.Gateway.Errors;

namespace Outpost.Gateway.Security;

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
