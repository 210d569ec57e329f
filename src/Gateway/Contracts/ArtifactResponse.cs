namespace Outpost.Gateway.Contracts;

/// <summary>An artifact: its <c>sha256:</c> digest, size, and how the tenant got it (<c>upload</c> or <c>task:&lt;run&gt;</c>).</summary>
public sealed record ArtifactResponse(string Digest, long Size, string Origin, DateTimeOffset CreatedAt);
