namespace Outpost.Identity;

/// <summary>Parses, checks and formats OAuth scope lists (space-separated on the wire, RFC 6749 §3.3).</summary>
public static class ScopeList
{
    /// <summary>Splits a space-separated scope string into distinct scopes, in a stable (ordinal) order.</summary>
    public static IReadOnlyList<string> Parse(string? scope) =>
        string.IsNullOrWhiteSpace(scope)
            ? []
            : Normalize(scope.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    public static IReadOnlyList<string> Normalize(IEnumerable<string> scopes) =>
        scopes.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    public static string Format(IEnumerable<string> scopes) => string.Join(' ', scopes);

    /// <summary>The scopes that Outpost does not define, if any.</summary>
    public static IReadOnlyList<string> Unknown(IEnumerable<string> scopes) =>
        scopes.Where(s => !Scopes.All.Contains(s)).ToList();

    /// <summary>Checks that every scope is one Outpost defines; throws <see cref="IdentityStoreException"/> otherwise.</summary>
    public static IReadOnlyList<string> Validate(IEnumerable<string> scopes)
    {
        var list = Normalize(scopes);
        var unknown = Unknown(list);
        if (unknown.Count > 0)
        {
            throw new IdentityStoreException(
                IdentityError.Invalid,
                $"unknown scope(s) '{string.Join("', '", unknown)}'; known scopes are: {Format(Scopes.All.Order(StringComparer.Ordinal))}.");
        }

        return list;
    }

    /// <summary>
    /// The scopes a token may carry: the requested ones when all of them are allowed (the allowed set when none are
    /// requested), or null when the request asks for more than the client was registered for.
    /// </summary>
    public static IReadOnlyList<string>? Grant(IReadOnlyCollection<string> requested, IReadOnlyCollection<string> allowed)
    {
        ArgumentNullException.ThrowIfNull(requested);
        ArgumentNullException.ThrowIfNull(allowed);
        if (requested.Count == 0)
        {
            return Normalize(allowed);
        }

        return requested.All(s => allowed.Contains(s, StringComparer.Ordinal)) ? Normalize(requested) : null;
    }
}
