using System.Security.Cryptography;
using System.Text;
using Outpost.AuditLog.Merkle;
using Outpost.Testing.AuditLogs;
using Xunit;

namespace Outpost.AuditLog.Tests.Merkle;

public sealed class MerkleTreeTests
{
    private const int MaxLeaves = 70;

    // The leaves of the RFC 6962 test vectors that Certificate Transparency implementations share.
    private static readonly byte[][] CtVectorLeaves =
    [
        [],
        [0x00],
        [0x10],
        [0x20, 0x21],
        [0x30, 0x31],
        [0x40, 0x41, 0x42, 0x43],
        [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
        [0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f],
    ];

    // The entries of the larger trees: the test vectors first, then distinct strings.
    private static readonly byte[][] Entries = Enumerable.Range(0, MaxLeaves).Select(Entry).ToArray();

    private static readonly byte[][] EntryHashes = Entries.Select(ReferenceLeafHash).ToArray();

    private static readonly MerkleTree FullTree = BuildTree(EntryHashes);

    // ---- Hashing ----

    [Fact]
    public void EmptyRoot_Always_IsSha256OfTheEmptyString()
    {
        const string expected = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

        Assert.Equal(expected, Hex(MerkleHash.EmptyRoot));
        Assert.Equal(expected, Hex(new MerkleTree().RootHash()));
        Assert.Equal(expected, Hex(FullTree.RootHash(0)));
    }

    [Fact]
    public void EmptyRoot_CallerChangesTheArray_NextReadIsUnchanged()
    {
        var first = MerkleHash.EmptyRoot;
        first[0] ^= 0xff;

        Assert.Equal(SHA256.HashData([]), MerkleHash.EmptyRoot);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(31)]
    [InlineData(512)]
    [InlineData(513)]
    [InlineData(100_000)]
    public void Leaf_AnyLength_IsSha256OfZeroPrefixAndData(int length)
    {
        var data = Enumerable.Range(0, length).Select(i => (byte)(i * 7)).ToArray();

        Assert.Equal(SHA256.HashData([0x00, .. data]), MerkleHash.Leaf(data));
    }

    [Fact]
    public void Node_TwoHashes_IsSha256OfOnePrefixLeftAndRight()
    {
        var left = SHA256.HashData("left"u8);
        var right = SHA256.HashData("right"u8);

        Assert.Equal(SHA256.HashData([0x01, .. left, .. right]), MerkleHash.Node(left, right));
        Assert.NotEqual(MerkleHash.Node(left, right), MerkleHash.Node(right, left));
    }

    [Theory]
    [InlineData(0, 32)]
    [InlineData(31, 32)]
    [InlineData(32, 33)]
    public void Node_ChildNotAHash_ThrowsArgumentException(int leftLength, int rightLength)
    {
        Assert.Throws<ArgumentException>(() => MerkleHash.Node(new byte[leftLength], new byte[rightLength]));
    }

    // ---- Roots ----

    [Fact]
    public void RootHash_CtTestVectors_MatchesNaiveMthForEverySize()
    {
        var tree = new MerkleTree();
        for (var size = 1; size <= CtVectorLeaves.Length; size++)
        {
            tree.Append(MerkleHash.Leaf(CtVectorLeaves[size - 1]));

            Assert.Equal(Hex(ReferenceRoot(CtVectorLeaves.Take(size).ToArray())), Hex(tree.RootHash()));
        }

        Assert.Equal("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328", Hex(tree.RootHash()));
    }

    [Fact]
    public void RootHash_AfterEachAppend_MatchesNaiveMth()
    {
        var tree = new MerkleTree();
        for (var size = 1; size <= MaxLeaves; size++)
        {
            tree.Append(EntryHashes[size - 1]);

            Assert.Equal(size, tree.Size);
            Assert.Equal(0, tree.PrunedSize);
            Assert.Equal(Hex(ReferenceRoot(Entries.Take(size).ToArray())), Hex(tree.RootHash()));
        }
    }

    [Fact]
    public void RootHash_EveryEarlierSize_MatchesNaiveMth()
    {
        for (var size = 1; size <= MaxLeaves; size++)
        {
            Assert.Equal(Hex(ReferenceRoot(Entries.Take(size).ToArray())), Hex(FullTree.RootHash(size)));
        }
    }

    [Fact]
    public void LeafHash_EveryIndex_IsTheAppendedHashAsACopy()
    {
        for (var index = 0; index < MaxLeaves; index++)
        {
            var leaf = FullTree.LeafHash(index);
            Assert.Equal(EntryHashes[index], leaf);
            leaf[0] ^= 0xff;
            Assert.Equal(EntryHashes[index], FullTree.LeafHash(index));
        }
    }

    [Fact]
    public void CompactRange_EverySize_IsThePerfectSubtreesLeftToRightAndFoldsToTheRoot()
    {
        for (var size = 0; size <= MaxLeaves; size++)
        {
            var range = FullTree.CompactRange(size);

            var expected = new List<string>();
            var start = 0;
            for (var level = 30; level >= 0; level--)
            {
                if ((size & (1 << level)) != 0)
                {
                    expected.Add(Hex(ReferenceRoot(Entries[start..(start + (1 << level))])));
                    start += 1 << level;
                }
            }

            Assert.Equal(expected, range.Select(Hex));
            if (size > 0)
            {
                var folded = range[^1];
                for (var i = range.Count - 2; i >= 0; i--)
                {
                    folded = MerkleHash.Node(range[i], folded);
                }

                Assert.Equal(Hex(FullTree.RootHash(size)), Hex(folded));
            }
        }
    }

    // ---- Inclusion proofs ----

    [Fact]
    public void InclusionProof_EveryIndexOfEverySize_IsRfcPathAndVerifies()
    {
        for (var size = 1; size <= MaxLeaves; size++)
        {
            var root = FullTree.RootHash(size);
            for (var index = 0; index < size; index++)
            {
                var proof = FullTree.InclusionProof(index, size);

                Assert.Equal(ReferencePath(index, Entries[..size]).Select(Hex), proof.Select(Hex));
                Assert.True(Rfc9162Verifier.VerifyInclusion(EntryHashes[index], index, size, proof, root));
                Assert.True(MerkleTree.VerifyInclusion(EntryHashes[index], index, size, proof, root));
            }
        }
    }

    [Fact]
    public void VerifyInclusion_WrongLeafHash_Fails()
    {
        ForEachInclusionProof((index, size, proof, root) =>
        {
            var wrongLeaf = MerkleHash.Leaf("not in the log"u8);
            AssertInclusion(false, wrongLeaf, index, size, proof, root);

            // A leaf hash of the right size but for a different entry, and the entry's data itself (unhashed).
            AssertInclusion(false, EntryHashes[(index + 1) % MaxLeaves], index, size, proof, root);
            AssertInclusion(false, SHA256.HashData(Entries[index]), index, size, proof, root);
        });
    }

    [Fact]
    public void VerifyInclusion_WrongIndex_Fails()
    {
        ForEachInclusionProof((index, size, proof, root) =>
        {
            for (var other = -1; other <= size; other++)
            {
                if (other != index)
                {
                    AssertInclusion(false, EntryHashes[index], other, size, proof, root);
                }
            }
        });
    }

    [Fact]
    public void VerifyInclusion_TamperedProofElement_Fails()
    {
        ForEachInclusionProof((index, size, proof, root) =>
        {
            for (var i = 0; i < proof.Count; i++)
            {
                var tampered = proof.Select(h => (byte[])h.Clone()).ToArray();
                tampered[i][i % MerkleHash.Size] ^= 0x01;
                AssertInclusion(false, EntryHashes[index], index, size, tampered, root);
            }
        });
    }

    [Fact]
    public void VerifyInclusion_TruncatedOrExtendedProof_Fails()
    {
        ForEachInclusionProof((index, size, proof, root) =>
        {
            if (proof.Count > 0)
            {
                AssertInclusion(false, EntryHashes[index], index, size, proof.SkipLast(1).ToArray(), root);
                AssertInclusion(false, EntryHashes[index], index, size, proof.Skip(1).ToArray(), root);
            }

            AssertInclusion(false, EntryHashes[index], index, size, [.. proof, root], root);
            AssertInclusion(false, EntryHashes[index], index, size, [.. proof, EntryHashes[0]], root);
            AssertInclusion(false, EntryHashes[index], index, size, [EntryHashes[index], .. proof], root);
        });
    }

    [Fact]
    public void VerifyInclusion_RootOfAnotherSizeOrTampered_Fails()
    {
        ForEachInclusionProof((index, size, proof, root) =>
        {
            var tamperedRoot = (byte[])root.Clone();
            tamperedRoot[^1] ^= 0x80;
            AssertInclusion(false, EntryHashes[index], index, size, proof, tamperedRoot);
            if (size < MaxLeaves)
            {
                AssertInclusion(false, EntryHashes[index], index, size, proof, FullTree.RootHash(size + 1));
            }
        });
    }

    [Fact]
    public void VerifyInclusion_MalformedInput_ReturnsFalse()
    {
        var proof = FullTree.InclusionProof(5, 10);
        var root = FullTree.RootHash(10);
        Assert.True(MerkleTree.VerifyInclusion(EntryHashes[5], 5, 10, proof, root));

        Assert.False(MerkleTree.VerifyInclusion(EntryHashes[5].AsSpan(1), 5, 10, proof, root));
        Assert.False(MerkleTree.VerifyInclusion(EntryHashes[5], 5, 10, proof, root.AsSpan(1)));
        Assert.False(MerkleTree.VerifyInclusion(EntryHashes[5], 5, 0, proof, root));
        Assert.False(MerkleTree.VerifyInclusion(EntryHashes[5], 5, -10, proof, root));
        Assert.False(MerkleTree.VerifyInclusion(EntryHashes[5], long.MinValue, 10, proof, root));
        Assert.False(MerkleTree.VerifyInclusion(EntryHashes[5], 5, 10, [proof[0], proof[1][..31], proof[2], proof[3]], root));
        Assert.False(MerkleTree.VerifyInclusion(EntryHashes[5], 5, 10, [proof[0], null!, proof[2], proof[3]], root));
        Assert.Throws<ArgumentNullException>(() => MerkleTree.VerifyInclusion(EntryHashes[5], 5, 10, null!, root));
    }

    // ---- Consistency proofs ----

    [Fact]
    public void ConsistencyProof_EveryPairOfSizes_IsRfcProofAndVerifies()
    {
        for (var toSize = 1; toSize <= MaxLeaves; toSize++)
        {
            var toRoot = FullTree.RootHash(toSize);
            for (var fromSize = 1; fromSize <= toSize; fromSize++)
            {
                var fromRoot = FullTree.RootHash(fromSize);
                var proof = FullTree.ConsistencyProof(fromSize, toSize);

                Assert.Equal(ReferenceProof(fromSize, Entries[..toSize]).Select(Hex), proof.Select(Hex));
                Assert.True(Rfc9162Verifier.VerifyConsistency(fromSize, toSize, fromRoot, toRoot, proof));
                Assert.True(MerkleTree.VerifyConsistency(fromSize, toSize, fromRoot, toRoot, proof));
            }
        }
    }

    [Fact]
    public void ConsistencyProof_EqualSizes_IsEmpty()
    {
        for (var size = 1; size <= MaxLeaves; size++)
        {
            Assert.Empty(FullTree.ConsistencyProof(size, size));
        }
    }

    [Fact]
    public void VerifyConsistency_TamperedProofElement_Fails()
    {
        ForEachConsistencyProof((fromSize, toSize, fromRoot, toRoot, proof) =>
        {
            for (var i = 0; i < proof.Count; i++)
            {
                var tampered = proof.Select(h => (byte[])h.Clone()).ToArray();
                tampered[i][(i * 5) % MerkleHash.Size] ^= 0x10;
                AssertConsistency(false, fromSize, toSize, fromRoot, toRoot, tampered);
            }
        });
    }

    [Fact]
    public void VerifyConsistency_TruncatedOrExtendedProof_Fails()
    {
        ForEachConsistencyProof((fromSize, toSize, fromRoot, toRoot, proof) =>
        {
            if (proof.Count > 0)
            {
                AssertConsistency(false, fromSize, toSize, fromRoot, toRoot, proof.SkipLast(1).ToArray());
                AssertConsistency(false, fromSize, toSize, fromRoot, toRoot, proof.Skip(1).ToArray());
            }

            AssertConsistency(false, fromSize, toSize, fromRoot, toRoot, [.. proof, toRoot]);
            AssertConsistency(false, fromSize, toSize, fromRoot, toRoot, [fromRoot, .. proof]);
        });
    }

    [Fact]
    public void VerifyConsistency_WrongRoots_Fails()
    {
        ForEachConsistencyProof((fromSize, toSize, fromRoot, toRoot, proof) =>
        {
            var otherFromRoot = FullTree.RootHash(fromSize == 1 ? 2 : fromSize - 1);
            AssertConsistency(false, fromSize, toSize, otherFromRoot, toRoot, proof);
            var otherToRoot = FullTree.RootHash(toSize == MaxLeaves ? toSize - 1 : toSize + 1);
            AssertConsistency(false, fromSize, toSize, fromRoot, otherToRoot, proof);
            if (fromSize != toSize)
            {
                AssertConsistency(false, fromSize, toSize, toRoot, fromRoot, proof);
            }
        });
    }

    [Fact]
    public void VerifyConsistency_ForkedHistory_Fails()
    {
        // Tree "forked" shares the first fromSize - 1 leaves with the honest tree and differs at leaf fromSize - 1.
        for (var fromSize = 1; fromSize <= MaxLeaves; fromSize++)
        {
            var forkedHashes = (byte[][])EntryHashes.Clone();
            forkedHashes[fromSize - 1] = MerkleHash.Leaf(Encoding.UTF8.GetBytes($"rewritten entry {fromSize - 1}"));
            var forked = BuildTree(forkedHashes);

            Assert.Equal(Hex(ReferenceRoot(Entries[..(fromSize - 1)])), Hex(forked.RootHash(fromSize - 1)));
            for (var toSize = fromSize; toSize <= MaxLeaves; toSize++)
            {
                var honestFromRoot = FullTree.RootHash(fromSize);
                var forkedToRoot = forked.RootHash(toSize);

                // The client holds the honest root at fromSize; the log now shows the forked tree at toSize.
                AssertConsistency(false, fromSize, toSize, honestFromRoot, forkedToRoot, forked.ConsistencyProof(fromSize, toSize));
                AssertConsistency(false, fromSize, toSize, honestFromRoot, forkedToRoot, FullTree.ConsistencyProof(fromSize, toSize));

                // And the other way round.
                AssertConsistency(false, fromSize, toSize, forked.RootHash(fromSize), FullTree.RootHash(toSize), forked.ConsistencyProof(fromSize, toSize));
            }
        }
    }

    [Fact]
    public void VerifyConsistency_MalformedInput_ReturnsFalse()
    {
        var proof = FullTree.ConsistencyProof(6, 13);
        var fromRoot = FullTree.RootHash(6);
        var toRoot = FullTree.RootHash(13);
        Assert.True(MerkleTree.VerifyConsistency(6, 13, fromRoot, toRoot, proof));

        Assert.False(MerkleTree.VerifyConsistency(13, 6, fromRoot, toRoot, proof));
        Assert.False(MerkleTree.VerifyConsistency(0, 13, fromRoot, toRoot, proof));
        Assert.False(MerkleTree.VerifyConsistency(-6, 13, fromRoot, toRoot, proof));
        Assert.False(MerkleTree.VerifyConsistency(6, 13, fromRoot.AsSpan(..31), toRoot, proof));
        Assert.False(MerkleTree.VerifyConsistency(6, 13, fromRoot, toRoot.AsSpan(..31), proof));
        Assert.False(MerkleTree.VerifyConsistency(6, 13, fromRoot, toRoot, [.. proof.SkipLast(1), proof[^1][..31]]));
        Assert.False(MerkleTree.VerifyConsistency(6, 13, fromRoot, toRoot, [.. proof.SkipLast(1), null!]));
        Assert.False(MerkleTree.VerifyConsistency(6, 6, fromRoot, fromRoot, proof));
        Assert.False(MerkleTree.VerifyConsistency(6, 6, fromRoot, toRoot, []));
        Assert.Throws<ArgumentNullException>(() => MerkleTree.VerifyConsistency(6, 13, fromRoot, toRoot, null!));
    }

    // ---- Pruning ----

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(13)]
    [InlineData(33)]
    [InlineData(64)]
    [InlineData(MaxLeaves)]
    public void FromPrunedPrefix_ThenAppendingTheRest_GivesTheFullTreesRootsAndProofs(int prunedSize)
    {
        var pruned = MerkleTree.FromPrunedPrefix(prunedSize, FullTree.CompactRange(prunedSize));
        Assert.Equal(prunedSize, pruned.Size);
        Assert.Equal(prunedSize, pruned.PrunedSize);
        AssertSameAsFullTreeAt(pruned, prunedSize);

        // Checked after every append, so each intermediate state of the right edge is covered.
        for (var size = prunedSize + 1; size <= MaxLeaves; size++)
        {
            pruned.Append(FullTree.LeafHash(size - 1));
            Assert.Equal(size, pruned.Size);
            Assert.Equal(prunedSize, pruned.PrunedSize);
            AssertSameAsFullTreeAt(pruned, size);
        }

        // And every earlier size of the finished tree.
        for (var toSize = Math.Max(prunedSize, 1); toSize <= MaxLeaves; toSize++)
        {
            Assert.Equal(Hex(FullTree.RootHash(toSize)), Hex(pruned.RootHash(toSize)));
            Assert.Equal(FullTree.CompactRange(toSize).Select(Hex), pruned.CompactRange(toSize).Select(Hex));
            for (var index = prunedSize; index < toSize; index++)
            {
                Assert.Equal(FullTree.InclusionProof(index, toSize).Select(Hex), pruned.InclusionProof(index, toSize).Select(Hex));
            }

            for (var fromSize = Math.Max(prunedSize, 1); fromSize <= toSize; fromSize++)
            {
                Assert.Equal(FullTree.ConsistencyProof(fromSize, toSize).Select(Hex), pruned.ConsistencyProof(fromSize, toSize).Select(Hex));
            }
        }

        Assert.Equal(MerkleHash.EmptyRoot, pruned.RootHash(0));
    }

    [Fact]
    public void FromPrunedPrefix_PrunedTreeThenPrunedAgain_StillMatchesTheFullTree()
    {
        var pruned = MerkleTree.FromPrunedPrefix(5, FullTree.CompactRange(5));
        for (var size = 6; size <= 40; size++)
        {
            pruned.Append(FullTree.LeafHash(size - 1));
        }

        var prunedAgain = MerkleTree.FromPrunedPrefix(37, pruned.CompactRange(37));
        for (var size = 38; size <= MaxLeaves; size++)
        {
            prunedAgain.Append(FullTree.LeafHash(size - 1));
        }

        Assert.Equal(Hex(FullTree.RootHash()), Hex(prunedAgain.RootHash()));
        Assert.Equal(FullTree.InclusionProof(37, 50).Select(Hex), prunedAgain.InclusionProof(37, 50).Select(Hex));
        Assert.Equal(FullTree.ConsistencyProof(37, MaxLeaves).Select(Hex), prunedAgain.ConsistencyProof(37, MaxLeaves).Select(Hex));
    }

    [Theory]
    [InlineData(13)]
    [InlineData(32)]
    public void FromPrunedPrefix_ThePrunedLeaves_AreOutOfRange(int prunedSize)
    {
        var pruned = MerkleTree.FromPrunedPrefix(prunedSize, FullTree.CompactRange(prunedSize));
        pruned.Append(FullTree.LeafHash(prunedSize));

        AssertOutOfRange("index", () => pruned.LeafHash(prunedSize - 1));
        AssertOutOfRange("index", () => pruned.InclusionProof(prunedSize - 1, prunedSize + 1));
        AssertOutOfRange("index", () => pruned.InclusionProof(0, prunedSize + 1));
        AssertOutOfRange("fromSize", () => pruned.ConsistencyProof(prunedSize - 1, prunedSize + 1));
        AssertOutOfRange("treeSize", () => pruned.RootHash(prunedSize - 1));
        AssertOutOfRange("treeSize", () => pruned.RootHash(1));
        AssertOutOfRange("size", () => pruned.CompactRange(prunedSize - 1));
        AssertOutOfRange("size", () => pruned.CompactRange(0));
        Assert.Equal(FullTree.LeafHash(prunedSize), pruned.LeafHash(prunedSize));
    }

    [Fact]
    public void FromPrunedPrefix_WrongNumberOfHashes_ThrowsArgumentException()
    {
        var range = FullTree.CompactRange(13);
        Assert.Equal(3, range.Count);

        Assert.Throws<ArgumentException>(() => MerkleTree.FromPrunedPrefix(13, range.Take(2).ToArray()));
        Assert.Throws<ArgumentException>(() => MerkleTree.FromPrunedPrefix(13, [.. range, range[0]]));
        Assert.Throws<ArgumentException>(() => MerkleTree.FromPrunedPrefix(12, range));
        Assert.Throws<ArgumentException>(() => MerkleTree.FromPrunedPrefix(0, range));
    }

    [Fact]
    public void FromPrunedPrefix_HashNotThirtyTwoBytes_ThrowsArgumentException()
    {
        var range = FullTree.CompactRange(13);

        Assert.Throws<ArgumentException>(() => MerkleTree.FromPrunedPrefix(13, [range[0], range[1][..31], range[2]]));
        Assert.Throws<ArgumentException>(() => MerkleTree.FromPrunedPrefix(13, [range[0], range[1], [.. range[2], 0]]));
        Assert.Throws<ArgumentException>(() => MerkleTree.FromPrunedPrefix(13, [range[0], null!, range[2]]));
    }

    [Fact]
    public void FromPrunedPrefix_NegativeSize_ThrowsArgumentOutOfRange()
    {
        AssertOutOfRange("prunedSize", () => MerkleTree.FromPrunedPrefix(-1, []));
    }

    // ---- Argument checks ----

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(33)]
    public void Append_NotThirtyTwoBytes_ThrowsArgumentException(int length)
    {
        var tree = new MerkleTree();

        var error = Assert.Throws<ArgumentException>(() => tree.Append(new byte[length]));
        Assert.Equal("leafHash", error.ParamName);
        Assert.Equal(0, tree.Size);
    }

    [Fact]
    public void Queries_OutsideTheTree_ThrowArgumentOutOfRange()
    {
        var tree = BuildTree(EntryHashes[..10]);

        AssertOutOfRange("treeSize", () => tree.RootHash(-1));
        AssertOutOfRange("treeSize", () => tree.RootHash(11));
        AssertOutOfRange("index", () => tree.LeafHash(-1));
        AssertOutOfRange("index", () => tree.LeafHash(10));
        AssertOutOfRange("index", () => tree.InclusionProof(-1, 10));
        AssertOutOfRange("index", () => tree.InclusionProof(10, 10));
        AssertOutOfRange("index", () => tree.InclusionProof(5, 5));
        AssertOutOfRange("treeSize", () => tree.InclusionProof(0, 0));
        AssertOutOfRange("treeSize", () => tree.InclusionProof(0, 11));
        AssertOutOfRange("fromSize", () => tree.ConsistencyProof(0, 10));
        AssertOutOfRange("fromSize", () => tree.ConsistencyProof(-1, 10));
        AssertOutOfRange("fromSize", () => tree.ConsistencyProof(6, 5));
        AssertOutOfRange("toSize", () => tree.ConsistencyProof(1, 11));
        AssertOutOfRange("toSize", () => tree.ConsistencyProof(0, 0));
        AssertOutOfRange("size", () => tree.CompactRange(-1));
        AssertOutOfRange("size", () => tree.CompactRange(11));

        var empty = new MerkleTree();
        AssertOutOfRange("index", () => empty.LeafHash(0));
        AssertOutOfRange("treeSize", () => empty.InclusionProof(0, 1));
        AssertOutOfRange("toSize", () => empty.ConsistencyProof(1, 1));
        Assert.Empty(empty.CompactRange(0));
    }

    // ---- Scale ----

    [Fact]
    public void InclusionAndConsistencyProofs_HundredThousandLeaves_Verify()
    {
        const int leafCount = 100_000;
        var leafHashes = new byte[leafCount][];
        var tree = new MerkleTree();
        for (var i = 0; i < leafCount; i++)
        {
            leafHashes[i] = MerkleHash.Leaf(BitConverter.GetBytes(i));
            tree.Append(leafHashes[i]);
        }

        Assert.Equal(leafCount, tree.Size);
        Assert.Equal(Hex(ReferenceRootOfHashes(leafHashes, 0, leafCount)), Hex(tree.RootHash()));

        var random = new Random(6962);
        for (var i = 0; i < 1000; i++)
        {
            var treeSize = random.NextInt64(1, leafCount + 1);
            var index = random.NextInt64(0, treeSize);
            var proof = tree.InclusionProof(index, treeSize);
            var root = tree.RootHash(treeSize);

            AssertInclusion(true, leafHashes[index], index, treeSize, proof, root);
            AssertInclusion(false, leafHashes[(index + 1) % leafCount], index, treeSize, proof, root);
        }

        for (var i = 0; i < 200; i++)
        {
            var toSize = random.NextInt64(1, leafCount + 1);
            var fromSize = random.NextInt64(1, toSize + 1);

            AssertConsistency(true, fromSize, toSize, tree.RootHash(fromSize), tree.RootHash(toSize), tree.ConsistencyProof(fromSize, toSize));
        }
    }

    // ---- Helpers ----

    private static byte[] Entry(int index) =>
        index < CtVectorLeaves.Length ? CtVectorLeaves[index] : Encoding.UTF8.GetBytes($"audit entry {index}");

    private static MerkleTree BuildTree(IEnumerable<byte[]> leafHashes)
    {
        var tree = new MerkleTree();
        foreach (var leafHash in leafHashes)
        {
            tree.Append(leafHash);
        }

        return tree;
    }

    private static string Hex(byte[] hash) => Convert.ToHexStringLower(hash);

    private static void AssertOutOfRange(string paramName, Func<object> call)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(call);
        Assert.Equal(paramName, error.ParamName);
    }

    private static void AssertInclusion(bool expected, byte[] leafHash, long index, long treeSize, IReadOnlyList<byte[]> proof, byte[] root)
    {
        Assert.Equal(expected, Rfc9162Verifier.VerifyInclusion(leafHash, index, treeSize, proof, root));
        Assert.Equal(expected, MerkleTree.VerifyInclusion(leafHash, index, treeSize, proof, root));
    }

    private static void AssertConsistency(bool expected, long fromSize, long toSize, byte[] fromRoot, byte[] toRoot, IReadOnlyList<byte[]> proof)
    {
        Assert.Equal(expected, Rfc9162Verifier.VerifyConsistency(fromSize, toSize, fromRoot, toRoot, proof));
        Assert.Equal(expected, MerkleTree.VerifyConsistency(fromSize, toSize, fromRoot, toRoot, proof));
    }

    private static void ForEachInclusionProof(Action<int, int, IReadOnlyList<byte[]>, byte[]> check)
    {
        for (var size = 1; size <= MaxLeaves; size++)
        {
            var root = FullTree.RootHash(size);
            for (var index = 0; index < size; index++)
            {
                check(index, size, FullTree.InclusionProof(index, size), root);
            }
        }
    }

    private static void ForEachConsistencyProof(Action<int, int, byte[], byte[], IReadOnlyList<byte[]>> check)
    {
        for (var toSize = 1; toSize <= MaxLeaves; toSize++)
        {
            for (var fromSize = 1; fromSize <= toSize; fromSize++)
            {
                check(fromSize, toSize, FullTree.RootHash(fromSize), FullTree.RootHash(toSize), FullTree.ConsistencyProof(fromSize, toSize));
            }
        }
    }

    private static void AssertSameAsFullTreeAt(MerkleTree pruned, int size)
    {
        var prunedSize = (int)pruned.PrunedSize;
        Assert.Equal(Hex(FullTree.RootHash(size)), Hex(pruned.RootHash()));
        for (var treeSize = Math.Max(prunedSize, 1); treeSize <= size; treeSize++)
        {
            Assert.Equal(Hex(FullTree.RootHash(treeSize)), Hex(pruned.RootHash(treeSize)));
        }

        if (size == 0)
        {
            return;
        }

        var root = pruned.RootHash(size);
        for (var index = prunedSize; index < size; index++)
        {
            var proof = pruned.InclusionProof(index, size);
            Assert.Equal(FullTree.InclusionProof(index, size).Select(Hex), proof.Select(Hex));
            AssertInclusion(true, pruned.LeafHash(index), index, size, proof, root);
        }

        for (var fromSize = Math.Max(prunedSize, 1); fromSize <= size; fromSize++)
        {
            var proof = pruned.ConsistencyProof(fromSize, size);
            Assert.Equal(FullTree.ConsistencyProof(fromSize, size).Select(Hex), proof.Select(Hex));
            AssertConsistency(true, fromSize, size, pruned.RootHash(fromSize), root, proof);
        }
    }

    // ---- The reference tree: RFC 9162 sections 2.1.1, 2.1.3.1 and 2.1.4.1 as written, over the entries' data ----

    private static byte[] ReferenceLeafHash(byte[] entry) => SHA256.HashData([0x00, .. entry]);

    private static byte[] ReferenceNodeHash(byte[] left, byte[] right) => SHA256.HashData([0x01, .. left, .. right]);

    /// <summary>k: the largest power of two smaller than n (n &gt; 1).</summary>
    private static int ReferenceSplit(int n)
    {
        var k = 1;
        while (k * 2 < n)
        {
            k *= 2;
        }

        return k;
    }

    /// <summary>MTH(D[n]).</summary>
    private static byte[] ReferenceRoot(byte[][] entries) =>
        ReferenceRootOfHashes(entries.Select(ReferenceLeafHash).ToArray(), 0, entries.Length);

    /// <summary>MTH(D[lo:hi]) over already hashed leaves.</summary>
    private static byte[] ReferenceRootOfHashes(byte[][] leafHashes, int lo, int hi)
    {
        var n = hi - lo;
        if (n == 0)
        {
            return SHA256.HashData([]);
        }

        if (n == 1)
        {
            return leafHashes[lo];
        }

        var k = ReferenceSplit(n);
        return ReferenceNodeHash(ReferenceRootOfHashes(leafHashes, lo, lo + k), ReferenceRootOfHashes(leafHashes, lo + k, hi));
    }

    /// <summary>PATH(m, D[n]).</summary>
    private static List<byte[]> ReferencePath(int m, byte[][] entries)
    {
        var n = entries.Length;
        if (n == 1)
        {
            return [];
        }

        var k = ReferenceSplit(n);
        return m < k
            ? [.. ReferencePath(m, entries[..k]), ReferenceRoot(entries[k..])]
            : [.. ReferencePath(m - k, entries[k..]), ReferenceRoot(entries[..k])];
    }

    /// <summary>PROOF(m, D[n]) = SUBPROOF(m, D[n], true).</summary>
    private static List<byte[]> ReferenceProof(int m, byte[][] entries) => ReferenceSubproof(m, entries, true);

    private static List<byte[]> ReferenceSubproof(int m, byte[][] entries, bool b)
    {
        var n = entries.Length;
        if (m == n)
        {
            return b ? [] : [ReferenceRoot(entries)];
        }

        var k = ReferenceSplit(n);
        return m <= k
            ? [.. ReferenceSubproof(m, entries[..k], b), ReferenceRoot(entries[k..])]
            : [.. ReferenceSubproof(m - k, entries[k..], false), ReferenceRoot(entries[..k])];
    }
}
