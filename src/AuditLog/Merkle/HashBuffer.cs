using System.Diagnostics;

namespace Outpost.AuditLog.Merkle;

/// <summary>
/// An append-only run of <see cref="MerkleHash.Size"/>-byte hashes with consecutive indexes starting at
/// <see cref="FirstIndex"/>, packed into 64 KiB chunks rather than one array per hash: a million hashes cost
/// 32 MB in about 500 objects instead of a million arrays with their headers and references.
/// Not thread-safe.
/// </summary>
internal sealed class HashBuffer
{
    // 64 KiB stays below the 85,000-byte large object heap threshold, so chunks are ordinary, compactable gen0 objects.
    private const int ChunkBytes = 64 * 1024;
    private const int HashesPerChunk = ChunkBytes / MerkleHash.Size;

    // Most audit logs are small and a tree keeps one buffer per level, so the first chunk starts small and doubles.
    private const int InitialChunkBytes = 4 * MerkleHash.Size;

    private readonly List<byte[]> _chunks = [];

    /// <summary>Creates an empty buffer whose first hash will have index <paramref name="firstIndex"/>.</summary>
    public HashBuffer(long firstIndex)
    {
        Debug.Assert(firstIndex >= 0);
        FirstIndex = firstIndex;
    }

    /// <summary>The index of the first hash held.</summary>
    public long FirstIndex { get; }

    /// <summary>The number of hashes held.</summary>
    public long Count { get; private set; }

    /// <summary>The index the next appended hash gets: one past the last hash held.</summary>
    public long EndIndex => FirstIndex + Count;

    /// <summary>Whether the hash with <paramref name="index"/> is held.</summary>
    public bool Contains(long index) => index >= FirstIndex && index < EndIndex;

    /// <summary>The hash with <paramref name="index"/>; a view of the buffer that stays valid until the next append.</summary>
    public ReadOnlySpan<byte> this[long index]
    {
        get
        {
            if (!Contains(index))
            {
                throw new ArgumentOutOfRangeException(
                    nameof(index), index, $"The buffer holds indexes [{FirstIndex}, {EndIndex}).");
            }

            var offset = index - FirstIndex;
            var chunk = _chunks[(int)(offset / HashesPerChunk)];
            return chunk.AsSpan((int)(offset % HashesPerChunk) * MerkleHash.Size, MerkleHash.Size);
        }
    }

    /// <summary>Appends <paramref name="hash"/>, which gets index <see cref="EndIndex"/>.</summary>
    public void Add(ReadOnlySpan<byte> hash)
    {
        Debug.Assert(hash.Length == MerkleHash.Size);
        var chunkIndex = (int)(Count / HashesPerChunk);
        var byteOffset = (int)(Count % HashesPerChunk) * MerkleHash.Size;
        if (chunkIndex == _chunks.Count)
        {
            _chunks.Add(new byte[chunkIndex == 0 ? InitialChunkBytes : ChunkBytes]);
        }

        var chunk = _chunks[chunkIndex];
        if (byteOffset + MerkleHash.Size > chunk.Length)
        {
            // Only the first chunk is ever short: it grows by doubling until it is a full chunk.
            Array.Resize(ref chunk, Math.Min(chunk.Length * 2, ChunkBytes));
            _chunks[chunkIndex] = chunk;
        }

        hash.CopyTo(chunk.AsSpan(byteOffset, MerkleHash.Size));
        Count++;
    }
}
