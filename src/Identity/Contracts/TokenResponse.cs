using System.Text.Json.Serialization;

namespace Outpost.Identity.Contracts;

/// <summary>RFC 6749 §5.1 successful token response. Names are fixed by the RFC, not by the API's naming policy.</summary>
public sealed record TokenResponse(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("expires_in")] long ExpiresIn,
    [property: JsonPropertyName("scope")] string Scope);
