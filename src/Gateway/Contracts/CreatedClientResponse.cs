namespace Outpost.Gateway.Contracts;

/// <summary>The answer to creating a client: the only response that ever carries its secret.</summary>
public sealed record CreatedClientResponse(ClientResponse Client, string? ClientSecret);
