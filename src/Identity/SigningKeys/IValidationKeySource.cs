using Microsoft.IdentityModel.Tokens;

namespace Outpost.Identity.SigningKeys;

/// <summary>The keys that verify Outpost's own access tokens: the active signing key and retired ones not yet removed.</summary>
public interface IValidationKeySource
{
    IEnumerable<SecurityKey> ValidationKeys { get; }
}
