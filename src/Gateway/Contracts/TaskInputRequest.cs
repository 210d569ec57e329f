namespace Outpost.Gateway.Contracts;

/// <summary>An input of a task: an uploaded artifact and where it goes (<c>unpack</c> a tarball into <c>path</c>, or place the file there).</summary>
public sealed record TaskInputRequest(string? Digest, string? Path, bool? Unpack);
