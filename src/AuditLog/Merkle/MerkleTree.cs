using System.Diagnostics;
using System.Numerics;
using System.Security.Cryptography;

namespace Outpost.AuditLog.Merkle;

/// <summary>
/// An append-only RFC 9162 (RFC 6962) Merkle tree over leaf hashes (<see cref="MerkleHash.Leaf(ReadOnlySpan{byte})"/>), giving the
/// root of any earlier size, inclusion proofs and consistency proofs, so that a tamper-evident log can show
/// that an entry is in it and that it only ever grew.
/// </summary>
/// <remarks>
/// <para>
/// The tree keeps every complete aligned node: the node at level <c>h</c> and index <c>j</c> covers leaves
/// <c>[j * 2^h, (j + 1) * 2^h)</c> and is computed once, when its last leaf is appended, so an append costs
/// amortised one leaf copy and at most one node hash. RFC 9162 splits a tree of <c>n</c> leaves at the largest
/// power of two below <c>n</c>, so every complete subtree it names is one of these aligned nodes and every
/// incomplete one (on the right edge) combines at most one aligned node per level: roots and proofs cost
/// O(log n) hashes. The hashes are stored 32 bytes each in chunked arrays, about 64 bytes per leaf in all.
/// </para>
/// <para>
/// A tree built by <see cref="FromPrunedPrefix"/> has forgotten its first <see cref="PrunedSize"/> leaves and
/// keeps only the compact range that covered them; every root, proof and leaf at or after the pruned size
/// remains available.
/// </para>
/// <para>This type is not thread-safe: it is owned by one grain, whose turns never overlap.</para>
/// </remarks>
public sealed class MerkleTree
{
    // Level h holds aligned nodes of 2^h leaves; a tree of at most long.MaxValue leaves has levels 0..62.
    private const int MaxLevels = 63;

    private readonly List<HashBuffer> _levels = [];

    /// <summary>Creates an empty tree.</summary>
    public MerkleTree()
        : this(prunedSize: 0)
    {
    }

    private MerkleTree(long prunedSize)
    {
        PrunedSize = prunedSize;
        LevelFor(BitOperations.Log2((ulong)prunedSize));
    }

    /// <summary>The number of leaves, including pruned ones.</summary>
    public long Size => _levels[0].EndIndex;

    /// <summary>The number of leading leaves this tree no longer holds; 0 unless created by <see cref="FromPrunedPrefix"/>.</summary>
    public long PrunedSize { get; }

    /// <summary>
    /// Creates a tree whose first <paramref name="prunedSize"/> leaves were removed (retention), from the
    /// hashes that covered them.
    /// </summary>
    /// <param name="prunedSize">The number of leaves removed; the new tree's <see cref="Size"/> and <see cref="PrunedSize"/>.</param>
    /// <param name="compactRange">
    /// The hashes of the maximal perfect subtrees covering <c>[0, prunedSize)</c>, left to right (largest first):
    /// exactly what <see cref="CompactRange"/> returned for <paramref name="prunedSize"/> before pruning.
    /// </param>
    /// <returns>A tree of <paramref name="prunedSize"/> leaves to which later leaves can be appended.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="prunedSize"/> is negative.</exception>
    /// <exception cref="ArgumentException">
    /// The number of hashes is not the number of one bits in <paramref name="prunedSize"/>, or a hash is not
    /// <see cref="MerkleHash.Size"/> bytes.
    /// </exception>
    public static MerkleTree FromPrunedPrefix(long prunedSize, IReadOnlyList<byte[]> compactRange)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prunedSize);
        ArgumentNullException.ThrowIfNull(compactRange);
        var expected = BitOperations.PopCount((ulong)prunedSize);
        if (compactRange.Count != expected)
        {
            throw new ArgumentException(
                $"A pruned prefix of {prunedSize} leaves is covered by {expected} subtree hashes (one per one bit of the size); got {compactRange.Count}.",
                nameof(compactRange));
        }

        for (var i = 0; i < compactRange.Count; i++)
        {
            if (compactRange[i] is not { Length: MerkleHash.Size })
            {
                throw new ArgumentException(
                    $"Compact range hash {i} must be {MerkleHash.Size} bytes long; got {(compactRange[i] is null ? "null" : $"{compactRange[i].Length} bytes")}.",
                    nameof(compactRange));
            }
        }

        // Level h keeps nodes from index (prunedSize >> h) & ~1 on. When bit h of prunedSize is set, that first node
        // is the compact range node ending at the largest multiple of 2^h not above prunedSize; when it is clear,
        // the level starts empty at prunedSize >> h. Either way the next node appended to level h has index
        // prunedSize >> h, and its left sibling, when it has one, is the compact range node.
        var tree = new MerkleTree(prunedSize);
        var next = 0;
        for (var level = MaxLevels - 1; level >= 0; level--)
        {
            if (((prunedSize >> level) & 1) != 0)
            {
                tree.LevelFor(level).Add(compactRange[next++]);
            }
        }

        return tree;
    }

    /// <summary>Appends a leaf.</summary>
    /// <param name="leafHash">The leaf's hash, already computed with <see cref="MerkleHash.Leaf(ReadOnlySpan{byte})"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="leafHash"/> is not <see cref="MerkleHash.Size"/> bytes.</exception>
    /// <exception cref="InvalidOperationException">The tree already holds <see cref="long.MaxValue"/> leaves.</exception>
    public void Append(ReadOnlySpan<byte> leafHash)
    {
        MerkleHash.RequireHash(leafHash, nameof(leafHash));
        var index = Size;
        if (index == long.MaxValue)
        {
            throw new InvalidOperationException("The tree is full.");
        }

        _levels[0].Add(leafHash);

        // Each odd index completes its parent: the same carry as incrementing a binary counter.
        Span<byte> parent = stackalloc byte[MerkleHash.Size];
        for (var level = 0; (index & 1) != 0; level++, index >>= 1)
        {
            var nodes = _levels[level];
            MerkleHash.Node(nodes[index - 1], nodes[index], parent);
            var parents = LevelFor(level + 1);
            Debug.Assert(parents.EndIndex == index >> 1);
            parents.Add(parent);
        }
    }

    /// <summary>The root of the whole tree: <see cref="MerkleHash.EmptyRoot"/> while it has no leaves.</summary>
    /// <returns>A new <see cref="MerkleHash.Size"/>-byte array.</returns>
    public byte[] RootHash() => RootHash(Size);

    /// <summary>The root of the tree made of the first <paramref name="treeSize"/> leaves.</summary>
    /// <param name="treeSize">0, or from <see cref="PrunedSize"/> to <see cref="Size"/>.</param>
    /// <returns>A new <see cref="MerkleHash.Size"/>-byte array.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="treeSize"/> is outside the valid range.</exception>
    public byte[] RootHash(long treeSize)
    {
        if (treeSize == 0)
        {
            return MerkleHash.EmptyRoot;
        }

        if (treeSize < PrunedSize || treeSize > Size)
        {
            throw new ArgumentOutOfRangeException(
                nameof(treeSize), treeSize, $"{nameof(treeSize)} must be 0 or in [{PrunedSize}, {Size}] (pruned size to size).");
        }

        return SubtreeHash(0, treeSize);
    }

    /// <summary>The hash of the leaf at <paramref name="index"/>, as it was appended.</summary>
    /// <param name="index">From <see cref="PrunedSize"/> to <see cref="Size"/> - 1.</param>
    /// <returns>A new <see cref="MerkleHash.Size"/>-byte array.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside the valid range.</exception>
    public byte[] LeafHash(long index)
    {
        if (index < PrunedSize || index >= Size)
        {
            throw new ArgumentOutOfRangeException(
                nameof(index), index, $"{nameof(index)} must be in [{PrunedSize}, {Size}) (pruned size to size).");
        }

        return _levels[0][index].ToArray();
    }

    /// <summary>
    /// The inclusion proof (audit path) of the leaf at <paramref name="index"/> in the tree of the first
    /// <paramref name="treeSize"/> leaves: <c>PATH(index, D[treeSize])</c> of RFC 9162 section 2.1.3.1, the
    /// sibling hashes from the leaf up to the root.
    /// </summary>
    /// <param name="index">From <see cref="PrunedSize"/> to <paramref name="treeSize"/> - 1.</param>
    /// <param name="treeSize">From 1 to <see cref="Size"/>.</param>
    /// <returns>New arrays of <see cref="MerkleHash.Size"/> bytes, leaf to root; empty for a tree of one leaf.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its valid range.</exception>
    public IReadOnlyList<byte[]> InclusionProof(long index, long treeSize)
    {
        if (treeSize < 1 || treeSize > Size)
        {
            throw new ArgumentOutOfRangeException(
                nameof(treeSize), treeSize, $"{nameof(treeSize)} must be in [1, {Size}] (1 to size).");
        }

        if (index < PrunedSize || index >= treeSize)
        {
            throw new ArgumentOutOfRangeException(
                nameof(index), index, $"{nameof(index)} must be in [{PrunedSize}, {treeSize}) (pruned size to tree size).");
        }

        // Walks RFC 9162's recursion from the root down; each step names the sibling subtree that the recursion
        // appends after the inner path, so the list comes out root first and is reversed at the end.
        // A left sibling is an aligned node that ends at or before the leaf; it lies in the pruned prefix only if
        // it is one of the kept compact range nodes (its parent would otherwise also end before the leaf and be the
        // sibling instead). A right sibling starts after the leaf, so never in the pruned prefix.
        var path = new List<byte[]>(64 - BitOperations.LeadingZeroCount((ulong)treeSize));
        long lo = 0;
        var hi = treeSize;
        while (hi - lo > 1)
        {
            var split = lo + LargestPowerOfTwoBelow(hi - lo);
            if (index < split)
            {
                path.Add(SubtreeHash(split, hi));
                hi = split;
            }
            else
            {
                path.Add(SubtreeHash(lo, split));
                lo = split;
            }
        }

        path.Reverse();
        return path;
    }

    /// <summary>
    /// The consistency proof that the tree of the first <paramref name="fromSize"/> leaves is a prefix of the tree
    /// of the first <paramref name="toSize"/> leaves: <c>PROOF(fromSize, D[toSize])</c> of RFC 9162 section 2.1.4.1.
    /// </summary>
    /// <param name="fromSize">From 1 (and from <see cref="PrunedSize"/>) to <paramref name="toSize"/>.</param>
    /// <param name="toSize">From 1 to <see cref="Size"/>.</param>
    /// <returns>New arrays of <see cref="MerkleHash.Size"/> bytes; empty when the sizes are equal.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its valid range.</exception>
    public IReadOnlyList<byte[]> ConsistencyProof(long fromSize, long toSize)
    {
        if (toSize < 1 || toSize > Size)
        {
            throw new ArgumentOutOfRangeException(
                nameof(toSize), toSize, $"{nameof(toSize)} must be in [1, {Size}] (1 to size).");
        }

        var minFrom = Math.Max(1, PrunedSize);
        if (fromSize < minFrom || fromSize > toSize)
        {
            throw new ArgumentOutOfRangeException(
                nameof(fromSize), fromSize, $"{nameof(fromSize)} must be in [{minFrom}, {toSize}] (max(1, pruned size) to toSize).");
        }

        // SUBPROOF(m, D[lo:hi], b) walked from the root down, with m kept as an absolute leaf count. The recursion
        // ends when the old tree is exactly the current subtree; that subtree is itself part of the proof unless it
        // is the whole old tree (b still true). As for inclusion proofs, left siblings end before fromSize and are
        // kept nodes even in a pruned tree; right siblings start at or after fromSize.
        var siblings = new List<byte[]>(64 - BitOperations.LeadingZeroCount((ulong)toSize));
        long lo = 0;
        var hi = toSize;
        var wholeOldTree = true;
        while (fromSize != hi)
        {
            var split = lo + LargestPowerOfTwoBelow(hi - lo);
            if (fromSize <= split)
            {
                siblings.Add(SubtreeHash(split, hi));
                hi = split;
            }
            else
            {
                siblings.Add(SubtreeHash(lo, split));
                lo = split;
                wholeOldTree = false;
            }
        }

        var proof = new List<byte[]>(siblings.Count + 1);
        if (!wholeOldTree)
        {
            proof.Add(SubtreeHash(lo, hi));
        }

        for (var i = siblings.Count - 1; i >= 0; i--)
        {
            proof.Add(siblings[i]);
        }

        return proof;
    }

    /// <summary>
    /// The hashes of the maximal perfect aligned subtrees covering leaves <c>[0, size)</c>, left to right (largest
    /// first): one per one bit of <paramref name="size"/>. Folding them from the right with
    /// <see cref="MerkleHash.Node(ReadOnlySpan{byte}, ReadOnlySpan{byte})"/> gives <c>RootHash(size)</c>; they are
    /// what <see cref="FromPrunedPrefix"/> needs to drop the first <paramref name="size"/> leaves.
    /// </summary>
    /// <param name="size">From <see cref="PrunedSize"/> to <see cref="Size"/>.</param>
    /// <returns>New arrays of <see cref="MerkleHash.Size"/> bytes; empty for size 0.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is outside the valid range.</exception>
    public IReadOnlyList<byte[]> CompactRange(long size)
    {
        if (size < PrunedSize || size > Size)
        {
            throw new ArgumentOutOfRangeException(
                nameof(size), size, $"{nameof(size)} must be in [{PrunedSize}, {Size}] (pruned size to size).");
        }

        var range = new byte[BitOperations.PopCount((ulong)size)][];
        var next = 0;
        for (var level = MaxLevels - 1; level >= 0; level--)
        {
            if (((size >> level) & 1) != 0)
            {
                range[next++] = NodeAt(level, (size >> level) - 1).ToArray();
            }
        }

        return range;
    }

    /// <summary>
    /// Checks an inclusion proof offline: that <paramref name="leafHash"/> is the leaf at <paramref name="index"/>
    /// of the tree of <paramref name="treeSize"/> leaves whose root is <paramref name="rootHash"/>.
    /// </summary>
    /// <param name="leafHash">The leaf's hash (<see cref="MerkleHash.Leaf(ReadOnlySpan{byte})"/>).</param>
    /// <param name="index">The leaf's index.</param>
    /// <param name="treeSize">The size of the tree the proof was made for.</param>
    /// <param name="proof">The proof, as <see cref="InclusionProof"/> returns it.</param>
    /// <param name="rootHash">The trusted root of the tree of <paramref name="treeSize"/> leaves.</param>
    /// <returns>
    /// Whether the proof holds. Malformed input (an index outside the tree, a proof of the wrong length, a hash of the
    /// wrong size) is an invalid proof, not an error.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="proof"/> is null.</exception>
    public static bool VerifyInclusion(
        ReadOnlySpan<byte> leafHash, long index, long treeSize, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> rootHash)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (leafHash.Length != MerkleHash.Size || rootHash.Length != MerkleHash.Size || index < 0 || index >= treeSize)
        {
            return false;
        }

        // Below the level where the leaf's and the last leaf's paths meet ("inner"), the tree is perfect and the
        // index bits say on which side each sibling is. Above it the leaf's ancestor is on the right edge, where
        // RFC 9162 promotes a lone left child unchanged; a sibling exists (on the left) for each one bit left.
        var inner = BitLength(index ^ (treeSize - 1));
        var border = BitOperations.PopCount((ulong)(index >> inner));
        if (proof.Count != inner + border || !AllHashes(proof))
        {
            return false;
        }

        Span<byte> hash = stackalloc byte[MerkleHash.Size];
        leafHash.CopyTo(hash);
        for (var i = 0; i < proof.Count; i++)
        {
            if (i < inner && ((index >> i) & 1) == 0)
            {
                MerkleHash.Node(hash, proof[i], hash);
            }
            else
            {
                MerkleHash.Node(proof[i], hash, hash);
            }
        }

        return CryptographicOperations.FixedTimeEquals(hash, rootHash);
    }

    /// <summary>
    /// Checks a consistency proof offline: that the tree of <paramref name="fromSize"/> leaves with root
    /// <paramref name="fromRoot"/> is a prefix of the tree of <paramref name="toSize"/> leaves with root
    /// <paramref name="toRoot"/>.
    /// </summary>
    /// <param name="fromSize">The older size, at least 1.</param>
    /// <param name="toSize">The newer size, at least <paramref name="fromSize"/>.</param>
    /// <param name="fromRoot">The trusted root at <paramref name="fromSize"/>.</param>
    /// <param name="toRoot">The root at <paramref name="toSize"/>.</param>
    /// <param name="proof">The proof, as <see cref="ConsistencyProof"/> returns it; empty when the sizes are equal.</param>
    /// <returns>
    /// Whether the proof holds. Malformed input (sizes out of order or below 1, a proof of the wrong length, a hash of
    /// the wrong size) is an invalid proof, not an error.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="proof"/> is null.</exception>
    public static bool VerifyConsistency(
        long fromSize, long toSize, ReadOnlySpan<byte> fromRoot, ReadOnlySpan<byte> toRoot, IReadOnlyList<byte[]> proof)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (fromRoot.Length != MerkleHash.Size || toRoot.Length != MerkleHash.Size || fromSize < 1 || toSize < fromSize)
        {
            return false;
        }

        if (fromSize == toSize)
        {
            return proof.Count == 0 && CryptographicOperations.FixedTimeEquals(fromRoot, toRoot);
        }

        // The old tree ends with an aligned node of 2^shift leaves (its lowest one bit). The proof is that node's
        // hash (left out when it is the whole old tree) followed by its inclusion path, one level up, in the new
        // tree. The same path also rebuilds the old root: the old tree is that node plus the left siblings on the
        // path, since none of the right siblings existed yet.
        var shift = BitOperations.TrailingZeroCount(fromSize);
        var node = (fromSize - 1) >> shift;
        var inner = BitLength(node ^ ((toSize - 1) >> shift));
        var border = BitOperations.PopCount((ulong)(node >> inner));
        var start = node == 0 ? 0 : 1;
        if (proof.Count != start + inner + border || !AllHashes(proof))
        {
            return false;
        }

        Span<byte> oldHash = stackalloc byte[MerkleHash.Size];
        Span<byte> newHash = stackalloc byte[MerkleHash.Size];
        var seed = start == 0 ? fromRoot : proof[0];
        seed.CopyTo(oldHash);
        seed.CopyTo(newHash);
        for (var i = 0; i < inner + border; i++)
        {
            var sibling = proof[start + i];
            if (i < inner && ((node >> i) & 1) == 0)
            {
                MerkleHash.Node(newHash, sibling, newHash);
            }
            else
            {
                MerkleHash.Node(sibling, oldHash, oldHash);
                MerkleHash.Node(sibling, newHash, newHash);
            }
        }

        // Both comparisons run, so the time taken does not say which root failed.
        var oldMatches = CryptographicOperations.FixedTimeEquals(oldHash, fromRoot);
        var newMatches = CryptographicOperations.FixedTimeEquals(newHash, toRoot);
        return oldMatches & newMatches;
    }

    /// <summary>
    /// <c>MTH(D[lo:hi])</c> for a range that RFC 9162's recursion produces: <paramref name="lo"/> is a multiple of the
    /// smallest power of two not below the range's length. Such a range is its aligned nodes, one per one bit of
    /// the length, largest first, and its hash folds them from the right: one level per hash.
    /// </summary>
    private byte[] SubtreeHash(long lo, long hi)
    {
        Debug.Assert(lo >= 0 && hi > lo);
        Debug.Assert(lo % (long)BitOperations.RoundUpToPowerOf2((ulong)(hi - lo)) == 0);
        var hash = new byte[MerkleHash.Size];
        var remaining = hi - lo;
        var end = hi;
        var first = true;
        while (remaining != 0)
        {
            var level = BitOperations.TrailingZeroCount(remaining);
            var start = end - (1L << level);
            var node = NodeAt(level, start >> level);
            if (first)
            {
                node.CopyTo(hash);
                first = false;
            }
            else
            {
                MerkleHash.Node(node, hash, hash);
            }

            end = start;
            remaining &= remaining - 1;
        }

        return hash;
    }

    private ReadOnlySpan<byte> NodeAt(int level, long index)
    {
        if (level < _levels.Count && _levels[level].Contains(index))
        {
            return _levels[level][index];
        }

        // Argument checks keep every request inside what the tree holds; reaching this is a bug here, not the caller's.
        throw new InvalidOperationException(
            $"The Merkle tree node at level {level}, index {index} is not held (size {Size}, pruned size {PrunedSize}).");
    }

    private HashBuffer LevelFor(int level)
    {
        while (_levels.Count <= level)
        {
            _levels.Add(new HashBuffer((PrunedSize >> _levels.Count) & ~1L));
        }

        return _levels[level];
    }

    private static long LargestPowerOfTwoBelow(long n)
    {
        Debug.Assert(n > 1);
        return 1L << BitOperations.Log2((ulong)(n - 1));
    }

    private static int BitLength(long value) => 64 - BitOperations.LeadingZeroCount((ulong)value);

    private static bool AllHashes(IReadOnlyList<byte[]> proof)
    {
        foreach (var hash in proof)
        {
            if (hash is not { Length: MerkleHash.Size })
            {
                return false;
            }
        }

        return true;
    }
}
