namespace Outpost.Identity.SigningKeys;

/// <summary>A signing key's public facts, for listings: never its private part.</summary>
public sealed record SigningKeyInfo(
    string Kid,
    string Algorithm,
    DateTimeOffset CreatedAt,
    DateTimeOffset? RetiredAt,
    DateTimeOffset? RemovedAt)
{
    public const string Active = "active";
    public const string Retired = "retired";
    public const string Removed = "removed";

    /// <summary><see cref="Active"/> (signs and verifies), <see cref="Retired"/> (verifies) or <see cref="Removed"/>.</summary>
    public string Status => RemovedAt is not null ? Removed : RetiredAt is not null ? Retired : Active;
}
