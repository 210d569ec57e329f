namespace Outpost.Identity;

/// <summary>What kind of mistake an <see cref="IdentityStoreException"/> reports, so that HTTP and CLI can answer in kind.</summary>
public enum IdentityError
{
    /// <summary>A value does not have the required shape (bad tenant id, unknown scope, short password).</summary>
    Invalid,

    /// <summary>The tenant, client or admin named does not exist.</summary>
    NotFound,

    /// <summary>The object already exists.</summary>
    Conflict,

    /// <summary>The work is refused for now (too many sign-ins being checked at once); retry shortly.</summary>
    Busy,
}
