using System.Security.Cryptography;

namespace Outpost.Testing.AuditLogs;

/// <summary>
/// An independent check of the tree's proofs: the verification algorithms of RFC 9162 sections 2.1.3.2 and
/// 2.1.4.2 followed step by step, with their own hashing, so that a mistake shared by
/// Outpost's MerkleTree's proof generation and its own verifiers cannot hide.
/// Uses nothing from the production Merkle code.
/// </summary>
public static class Rfc9162Verifier
{
    /// <summary>RFC 9162 section 2.1.1: MTH over already-hashed leaves, by the definition's recursion.</summary>
    public static byte[] RootHash(IReadOnlyList<byte[]> leafHashes)
    {
        ArgumentNullException.ThrowIfNull(leafHashes);
        if (leafHashes.Count == 0)
        {
            return SHA256.HashData([]);
        }

        if (leafHashes.Count == 1)
        {
            return leafHashes[0];
        }

        var k = 1;
        while (k * 2 < leafHashes.Count)
        {
            k *= 2;
        }

        var left = RootHash(leafHashes.Take(k).ToList());
        var right = RootHash(leafHashes.Skip(k).ToList());
        return SHA256.HashData([0x01, .. left, .. right]);
    }

    /// <summary>RFC 9162 section 2.1.3.2: verifying an inclusion proof.</summary>
    public static bool VerifyInclusion(
        byte[] leafHash, long leafIndex, long treeSize, IReadOnlyList<byte[]> inclusionPath, byte[] rootHash)
    {
        // 1. If leaf_index >= tree_size, fail.
        if (leafIndex < 0 || leafIndex >= treeSize)
        {
            return false;
        }

        // 2. fn = leaf_index, sn = tree_size - 1.
        var fn = leafIndex;
        var sn = treeSize - 1;

        // 3. r = hash.
        var r = leafHash;

        // 4. For each p in inclusion_path:
        foreach (var p in inclusionPath)
        {
            // a. If sn is 0, fail.
            if (sn == 0)
            {
                return false;
            }

            // b. If LSB(fn) is set, or fn equals sn:
            if ((fn & 1) == 1 || fn == sn)
            {
                // 1. r = HASH(0x01 || p || r).
                r = HashChildren(p, r);

                // 2. If LSB(fn) is not set, right-shift fn and sn equally until LSB(fn) is set or fn is 0.
                if ((fn & 1) == 0)
                {
                    while ((fn & 1) == 0 && fn != 0)
                    {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            }
            else
            {
                // Otherwise r = HASH(0x01 || r || p).
                r = HashChildren(r, p);
            }

            // c. Finally, right-shift both fn and sn one time.
            fn >>= 1;
            sn >>= 1;
        }

        // 5. sn must be 0 and r must equal root_hash.
        return sn == 0 && r.AsSpan().SequenceEqual(rootHash);
    }

    /// <summary>
    /// RFC 9162 section 2.1.4.2: verifying consistency between two tree heads, defined there for
    /// <c>0 &lt; first &lt; second</c>. For <c>first == second</c> (outside the RFC's algorithm) the proof must be
    /// empty and the roots equal, which is what <c>PROOF(m, D[m])</c> of section 2.1.4.1 implies.
    /// </summary>
    public static bool VerifyConsistency(
        long first, long second, byte[] firstHash, byte[] secondHash, IReadOnlyList<byte[]> consistencyPath)
    {
        if (first <= 0 || second < first)
        {
            return false;
        }

        if (first == second)
        {
            return consistencyPath.Count == 0 && firstHash.AsSpan().SequenceEqual(secondHash);
        }

        // 1. If consistency_path is empty, fail.
        if (consistencyPath.Count == 0)
        {
            return false;
        }

        // 2. If first is an exact power of 2, prepend first_hash to consistency_path.
        var path = new List<byte[]>(consistencyPath);
        if ((first & (first - 1)) == 0)
        {
            path.Insert(0, firstHash);
        }

        // 3. fn = first - 1, sn = second - 1.
        var fn = first - 1;
        var sn = second - 1;

        // 4. If LSB(fn) is set, right-shift fn and sn equally until LSB(fn) is not set.
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }

        // 5. fr = sr = consistency_path[0].
        var fr = path[0];
        var sr = path[0];

        // 6. For each subsequent value c in consistency_path:
        for (var i = 1; i < path.Count; i++)
        {
            var c = path[i];

            // a. If sn is 0, fail.
            if (sn == 0)
            {
                return false;
            }

            // b. If LSB(fn) is set, or fn equals sn:
            if ((fn & 1) == 1 || fn == sn)
            {
                // 1. fr = HASH(0x01 || c || fr), sr = HASH(0x01 || c || sr).
                fr = HashChildren(c, fr);
                sr = HashChildren(c, sr);

                // 2. If LSB(fn) is not set, right-shift fn and sn equally until LSB(fn) is set or fn is 0.
                if ((fn & 1) == 0)
                {
                    while ((fn & 1) == 0 && fn != 0)
                    {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            }
            else
            {
                // Otherwise sr = HASH(0x01 || sr || c).
                sr = HashChildren(sr, c);
            }

            // c. Finally, right-shift both fn and sn one time.
            fn >>= 1;
            sn >>= 1;
        }

        // 7. fr must equal first_hash, sr must equal second_hash, and sn must be 0.
        return fr.AsSpan().SequenceEqual(firstHash) && sr.AsSpan().SequenceEqual(secondHash) && sn == 0;
    }

    private static byte[] HashChildren(byte[] left, byte[] right)
    {
        var input = new byte[1 + left.Length + right.Length];
        input[0] = 0x01;
        left.CopyTo(input, 1);
        right.CopyTo(input, 1 + left.Length);
        return SHA256.HashData(input);
    }
}
