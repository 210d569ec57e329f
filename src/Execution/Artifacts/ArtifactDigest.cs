namespace Outpost.Execution.Artifacts;

/// <summary>Artifact digests: <c>sha256:</c> and 64 lower-case hex digits.</summary>
public static class ArtifactDigest
{
    public const string Prefix = "sha256:";

    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");

    /// <summary>Whether <paramref name="digest"/> is well formed.</summary>
    public static bool IsValid(string? digest) =>
        digest is { Length: 71 } && digest.StartsWith(Prefix, StringComparison.Ordinal)
        && digest.AsSpan(Prefix.Length).IndexOfAnyExcept(LowerHex) < 0;

    /// <summary>The digest of a SHA-256 hash.</summary>
    public static string Of(ReadOnlySpan<byte> sha256) => Prefix + Convert.ToHexStringLower(sha256);

    /// <summary>The digest of some bytes.</summary>
    public static string Compute(ReadOnlySpan<byte> data) => Of(System.Security.Cryptography.SHA256.HashData(data));

    /// <summary>The hex part of a valid digest.</summary>
    public static string Hex(string digest) => IsValid(digest) ? digest[Prefix.Length..] : throw new FormatException($"'{digest}' is not a sha256:<64 hex digits> digest.");
}
