namespace Outpost.Gateway.Contracts;

/// <summary><c>PATCH .../clients/{clientId}</c>: fields left out stay as they are.</summary>
public sealed record UpdateClientRequest(IReadOnlyList<string>? AllowedScopes, bool? Disabled);
