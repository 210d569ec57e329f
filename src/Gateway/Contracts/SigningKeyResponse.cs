using Outpost.Identity.SigningKeys;

namespace Outpost.Gateway.Contracts;

/// <summary>A signing key's public facts; its status is <c>active</c>, <c>retired</c> or <c>removed</c>.</summary>
public sealed record SigningKeyResponse(
    string Kid,
    string Algorithm,
    string Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset? RetiredAt,
    DateTimeOffset? RemovedAt)
{
    public static SigningKeyResponse From(SigningKeyInfo key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return new(key.Kid, key.Algorithm, key.Status, key.CreatedAt, key.RetiredAt, key.RemovedAt);
    }
}
