using System.ComponentModel.DataAnnotations;

namespace Outpost.Identity;

/// <summary>How the gateway authenticates callers and issues tokens. Section <c>Security</c>.</summary>
public sealed class SecurityOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Security";

    /// <summary>
    /// The issuer (<c>iss</c>) of Outpost's own tokens, and the base URL of its OAuth endpoints as clients reach them,
    /// e.g. <c>https://outpost.example.com</c>. Null: the gateway's own listen address.
    /// </summary>
    public Uri? Issuer { get; set; }

    /// <summary>The audience (<c>aud</c>) every accepted access token must name.</summary>
    [Required(ErrorMessage = "must name the audience tokens are issued for.")]
    public string Audience { get; set; } = "outpost";

    /// <summary>Lifetime of access tokens Outpost issues.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00", ErrorMessage = "must be a time span from 00:01:00 to 1.00:00:00.")]
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Clock skew tolerated on <c>exp</c> and <c>nbf</c>.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00", ErrorMessage = "must be a time span from 00:00:00 to 00:05:00.")]
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// File holding the 32-byte master key (base64) that encrypts signing keys at rest in PostgreSQL. Created with a
    /// fresh random key when <see cref="CreateMasterKeyFile"/> is set and the file does not exist. Read, and reported
    /// when missing or bad, by <see cref="ServiceDefaults.Security.MasterKey"/>, which every process loads the same way.
    /// </summary>
    public string MasterKeyFile { get; set; } = "";

    /// <summary>Create <see cref="MasterKeyFile"/> when missing (development); production provisions it.</summary>
    public bool CreateMasterKeyFile { get; set; }

    /// <summary>An external identity provider's JWKS, e.g. Keycloak's or Entra ID's, whose tokens are also accepted.</summary>
    public Uri? ExternalJwksUrl { get; set; }

    /// <summary>The <c>iss</c> of the external identity provider's tokens; required with <see cref="ExternalJwksUrl"/>.</summary>
    public string? ExternalIssuer { get; set; }

    /// <summary>
    /// The tenants the external identity provider's tokens may claim; required with <see cref="ExternalJwksUrl"/>. A token
    /// of that issuer for any other tenant is refused; <c>system</c> (the operators') only when it is listed here.
    /// </summary>
    public IReadOnlyList<string> ExternalTenants { get; set; } = [];

    /// <summary>
    /// A shared secret (at least 32 bytes, base64) accepting HS256 tokens, for development only. Null: HS256 refused.
    /// </summary>
    public string? DevelopmentHs256Secret { get; set; }
}
