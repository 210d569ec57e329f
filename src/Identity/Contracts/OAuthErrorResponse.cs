using System.Text.Json.Serialization;

namespace Outpost.Identity.Contracts;

/// <summary>RFC 6749 §5.2 error response (also RFC 8628 §3.5's polling answers).</summary>
public sealed record OAuthErrorResponse(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("error_description")] string ErrorDescription);
