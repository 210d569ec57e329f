using System.ComponentModel.DataAnnotations;

namespace Outpost.Identity.SigningKeys;

/// <summary>How the gateway keeps its view of the signing keys current. Section <c>Security:SigningKeys</c>.</summary>
public sealed class SigningKeyOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Security:SigningKeys";

    /// <summary>
    /// How often each gateway rereads the keys from PostgreSQL, so that a rotation or removal done elsewhere (another
    /// gateway, the CLI) takes effect here. Retired keys keep verifying this much longer, to cover the gateways that
    /// still signed with them before they noticed.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00", ErrorMessage = "must be a time span from 00:00:01 to 00:10:00.")]
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(30);
}
