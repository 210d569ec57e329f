namespace Outpost.Gateway.Contracts;

/// <summary>A file a run returned, stored as an artifact (<c>GET /v1/artifacts/{digest}</c>).</summary>
public sealed record TaskOutputResponse(string Path, string Digest, long Size);
