using Microsoft.IdentityModel.Tokens;

namespace Outpost.Gateway.Security;

/// <summary>Placeholder until the signing key store is wired: no own keys, so only configured external or development keys verify.</summary>
internal sealed class NoValidationKeys : IValidationKeySource
{
    public IEnumerable<SecurityKey> ValidationKeys => [];
}
