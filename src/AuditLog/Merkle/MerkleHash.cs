using System.Security.Cryptography;

namespace Outpost.AuditLog.Merkle;

/// <summary>
/// The hashing of an RFC 9162 (RFC 6962) Merkle tree with SHA-256: a leaf is <c>SHA-256(0x00 || data)</c> and an
/// interior node is <c>SHA-256(0x01 || left || right)</c>. The distinct prefixes keep a leaf from ever being passed
/// off as an interior node (RFC 9162 section 2.1.1).
/// </summary>
public static class MerkleHash
{
    /// <summary>The length of every hash, in bytes.</summary>
    public const int Size = 32;

    private const byte LeafPrefix = 0x00;
    private const byte NodePrefix = 0x01;

    // Leaf data up to this length is prefixed on the stack; longer data is streamed, so an append never copies it.
    private const int StackLeafLimit = 512;

    private static readonly byte[] EmptyRootBytes = SHA256.HashData(ReadOnlySpan<byte>.Empty);

    /// <summary>
    /// The root of the empty tree, <c>SHA-256("")</c>. Each read returns a new array, so a caller may keep or change it.
    /// </summary>
    public static byte[] EmptyRoot => (byte[])EmptyRootBytes.Clone();

    /// <summary>The root of the empty tree, without a copy, for callers inside this assembly that only read it.</summary>
    internal static ReadOnlySpan<byte> EmptyRootSpan => EmptyRootBytes;

    /// <summary>Hashes one leaf's data: <c>SHA-256(0x00 || leafData)</c>.</summary>
    /// <param name="leafData">The leaf's bytes, of any length (empty included).</param>
    /// <returns>A new <see cref="Size"/>-byte array.</returns>
    public static byte[] Leaf(ReadOnlySpan<byte> leafData)
    {
        var hash = new byte[Size];
        Leaf(leafData, hash);
        return hash;
    }

    /// <summary>Hashes two child hashes into their parent: <c>SHA-256(0x01 || left || right)</c>.</summary>
    /// <param name="left">The left child's hash, <see cref="Size"/> bytes.</param>
    /// <param name="right">The right child's hash, <see cref="Size"/> bytes.</param>
    /// <returns>A new <see cref="Size"/>-byte array.</returns>
    /// <exception cref="ArgumentException">A child hash is not <see cref="Size"/> bytes long.</exception>
    public static byte[] Node(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        RequireHash(left, nameof(left));
        RequireHash(right, nameof(right));
        var hash = new byte[Size];
        Node(left, right, hash);
        return hash;
    }

    /// <summary>Writes <c>SHA-256(0x00 || leafData)</c> to <paramref name="destination"/>.</summary>
    internal static void Leaf(ReadOnlySpan<byte> leafData, Span<byte> destination)
    {
        if (leafData.Length <= StackLeafLimit)
        {
            Span<byte> buffer = stackalloc byte[1 + StackLeafLimit];
            buffer[0] = LeafPrefix;
            leafData.CopyTo(buffer[1..]);
            SHA256.HashData(buffer[..(1 + leafData.Length)], destination);
            return;
        }

        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData([LeafPrefix]);
        sha.AppendData(leafData);
        sha.GetHashAndReset(destination);
    }

    /// <summary>
    /// Writes <c>SHA-256(0x01 || left || right)</c> to <paramref name="destination"/>. The inputs are copied before
    /// hashing, so <paramref name="destination"/> may overlap either of them.
    /// </summary>
    internal static void Node(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right, Span<byte> destination)
    {
        Span<byte> buffer = stackalloc byte[1 + (2 * Size)];
        buffer[0] = NodePrefix;
        left.CopyTo(buffer.Slice(1, Size));
        right.CopyTo(buffer.Slice(1 + Size, Size));
        SHA256.HashData(buffer, destination);
    }

    /// <summary>Throws an <see cref="ArgumentException"/> unless <paramref name="hash"/> is <see cref="Size"/> bytes.</summary>
    internal static void RequireHash(ReadOnlySpan<byte> hash, string paramName)
    {
        if (hash.Length != Size)
        {
            throw new ArgumentException($"A hash must be {Size} bytes long; got {hash.Length} bytes.", paramName);
        }
    }
}
