using System.Security.Cryptography;
using Npgsql;
using Outpost.AuditLog.Merkle;
using Outpost.AuditLog.Signing;
using Outpost.AuditLog.Storage;
using Outpost.Grains.AuditLogs;

namespace Outpost.AuditLog.Verification;

/// <summary>
/// Recomputes a tenant's Merkle log from the rows in PostgreSQL and checks it against every stored checkpoint and its
/// signature, stopping at the first problem. Trusts nothing in the database but the public keys and the signatures:
/// an event edited, deleted, moved or added, or a checkpoint rewritten, shows up as the first event or checkpoint that
/// no longer agrees.
/// </summary>
public sealed class AuditVerifier(NpgsqlDataSource dataSource)
{
    private readonly AuditStore _store = new(dataSource);
    private readonly AuditIntake _intake = new(dataSource);

    /// <summary>
    /// Verifies <paramref name="tenant"/>'s log. <paramref name="logSize"/>, when given, asks the AuditLog grain how many
    /// events it wrote; it is asked before and after reading, and a stored row beyond the second answer was not written
    /// by Outpost. Rows beyond the first answer are appends made while verifying; they are checked but may be partial.
    /// </summary>
    public Task<AuditVerification> VerifyAsync(
        string tenant, Func<Task<long>>? logSize = null, CancellationToken cancellationToken = default) =>
        VerifyAsync(tenant, logSize, trustedLeaves: null, cancellationToken);

    /// <summary>
    /// As above; <paramref name="trustedLeaves"/>, when given, returns the leaf hashes the AuditLog grain wrote from a
    /// position on. When a segment no longer hashes to its checkpoint although every row matches its own stored leaf
    /// hash (both were changed), they name the first changed event.
    /// </summary>
    public Task<AuditVerification> VerifyAsync(
        string tenant,
        Func<Task<long>>? logSize,
        Func<long, Task<IReadOnlyList<byte[]>>>? trustedLeaves,
        CancellationToken cancellationToken = default) =>
        VerifyAsync(tenant, logSize, trustedLeaves, witnessed: null, cancellationToken);

    /// <summary>
    /// As above, and also against <paramref name="witnessed"/>: checkpoints a witness kept outside the database (the
    /// witness file, or what a witness service received). Each must carry a valid signature, and the stored log must
    /// hash to its root at its size: a history rewritten together with its checkpoints, even re-signed with a stolen
    /// key, no longer matches what the witness saw (<c>witness_mismatch</c>). Checkpoints of other tenants, and of
    /// sizes retention has pruned, are skipped.
    /// </summary>
    public async Task<AuditVerification> VerifyAsync(
        string tenant,
        Func<Task<long>>? logSize,
        Func<long, Task<IReadOnlyList<byte[]>>>? trustedLeaves,
        IReadOnlyCollection<AuditCheckpoint>? witnessed,
        CancellationToken cancellationToken = default)
    {
        long? knownSize = logSize is null ? null : await logSize();
        var beyondKnown = new List<(long Sequence, string RequestId)>();
        ArgumentException.ThrowIfNullOrEmpty(tenant);
        var prune = await _store.LatestPruneAsync(tenant, cancellationToken);
        var tree = prune is null ? new MerkleTree() : MerkleTree.FromPrunedPrefix(prune.TreeSize, prune.CompactRange);
        var prunedSize = tree.Size;
        var storedCheckpoints = await _store.ReadCheckpointsAsync(tenant, prunedSize, long.MaxValue, cancellationToken);
        var keys = await AuditSigner.ReadPublicKeysAsync(dataSource, cancellationToken);
        long eventsChecked = 0;
        var checkpointsChecked = 0;
        AuditCheckpoint? latest = null;
        var fromWitness = new HashSet<AuditCheckpoint>(ReferenceEqualityComparer.Instance);
        foreach (var checkpoint in witnessed ?? [])
        {
            if (checkpoint.Tenant == tenant && checkpoint.TreeSize > prunedSize)
            {
                fromWitness.Add(checkpoint);
            }
        }

        // Stored and witnessed checkpoints are checked alike, in size order; a witnessed one names itself when it fails.
        var checkpoints = storedCheckpoints.Concat(fromWitness).OrderBy(c => c.TreeSize).ToList();

        // Read first: an event staged now is logged after this reading, so it is either counted here or checked below.
        var staged = await _intake.CountAsync(tenant, cancellationToken);

        AuditVerification Result(AuditProblem? problem) =>
            new(tenant, problem is null, eventsChecked, checkpointsChecked, prunedSize, tree.Size, latest, problem, fromWitness.Count, staged);

        foreach (var checkpoint in checkpoints)
        {
            var witness = fromWitness.Contains(checkpoint);
            if (!keys.TryGetValue(checkpoint.KeyId, out var publicKey) || !AuditSigner.Verify(checkpoint, publicKey))
            {
                return Result(witness
                    ? new AuditProblem("bad_witness", null, null, checkpoint.TreeSize,
                        $"The witnessed checkpoint at size {checkpoint.TreeSize} does not verify with any audit key: the witness copy is not authentic.")
                    : !keys.ContainsKey(checkpoint.KeyId)
                        ? new AuditProblem("unknown_key", null, null, checkpoint.TreeSize,
                            $"The checkpoint at size {checkpoint.TreeSize} names key '{checkpoint.KeyId}', which is not an audit key.")
                        : new AuditProblem("bad_signature", null, null, checkpoint.TreeSize,
                            $"The signature of the checkpoint at size {checkpoint.TreeSize} does not verify: the checkpoint was changed."));
            }
        }

        var next = 0;
        var segmentStart = tree.Size;
        var problem = CheckReachedCheckpoints(tree, checkpoints, fromWitness, ref next, ref segmentStart, ref checkpointsChecked, ref latest);
        if (problem is not null)
        {
            return Result(await LocateAsync(tenant, tree, problem, trustedLeaves, cancellationToken));
        }

        await foreach (var entry in _store.ReadEventsAsync(tenant, tree.Size, cancellationToken))
        {
            var expected = tree.Size;
            var requestId = entry.Event.RequestId;
            if (entry.Sequence != expected)
            {
                return Result(new AuditProblem("missing_event", expected, null, null,
                    $"Event {expected} is missing: the next stored event is {entry.Sequence} (request {requestId})."));
            }

            if (knownSize is { } size && entry.Sequence >= size)
            {
                beyondKnown.Add((entry.Sequence, requestId));
            }

            var leaf = AuditLeaf.Hash(tenant, expected, entry.Event);
            if (entry.LeafHash is not { } stored || !CryptographicOperations.FixedTimeEquals(leaf, stored))
            {
                return Result(new AuditProblem("changed_event", expected, requestId, null,
                    $"Event {expected} (request {requestId}) no longer matches its leaf hash: a field was changed or the row was moved."));
            }

            if (!BodyMatches(entry.Event.RequestBody, entry.Event.RequestSha256) || !BodyMatches(entry.Event.ResponseBody, entry.Event.ResponseSha256))
            {
                return Result(new AuditProblem("body_mismatch", expected, requestId, null,
                    $"Event {expected} (request {requestId}) stores a body that does not match its digest."));
            }

            tree.Append(leaf);
            eventsChecked++;
            problem = CheckReachedCheckpoints(tree, checkpoints, fromWitness, ref next, ref segmentStart, ref checkpointsChecked, ref latest);
            if (problem is not null)
            {
                return Result(await LocateAsync(tenant, tree, problem, trustedLeaves, cancellationToken));
            }
        }

        if (beyondKnown.Count > 0)
        {
            var sizeAfter = await logSize!();
            var foreign = beyondKnown.Find(row => row.Sequence >= sizeAfter);
            if (foreign.RequestId is not null)
            {
                return Result(new AuditProblem("foreign_event", foreign.Sequence, foreign.RequestId, null,
                    $"Event {foreign.Sequence} (request {foreign.RequestId}) lies beyond the {sizeAfter} events the audit log wrote: it was added outside Outpost."));
            }
        }

        if (next < checkpoints.Count)
        {
            var checkpoint = checkpoints[next];
            return Result(new AuditProblem("truncated", tree.Size, null, checkpoint.TreeSize,
                $"The {(fromWitness.Contains(checkpoint) ? "witnessed " : "")}checkpoint at size {checkpoint.TreeSize} covers events up to {checkpoint.TreeSize - 1}, "
                + $"but the stored log ends before event {tree.Size}."));
        }

        return Result(null);
    }

    private static AuditProblem? CheckReachedCheckpoints(
        MerkleTree tree,
        List<AuditCheckpoint> checkpoints,
        HashSet<AuditCheckpoint> fromWitness,
        ref int next,
        ref long segmentStart,
        ref int verified,
        ref AuditCheckpoint? latest)
    {
        while (next < checkpoints.Count && checkpoints[next].TreeSize == tree.Size)
        {
            var checkpoint = checkpoints[next];
            if (fromWitness.Contains(checkpoint))
            {
                if (!CryptographicOperations.FixedTimeEquals(tree.RootHash(), checkpoint.RootHash))
                {
                    return new AuditProblem("witness_mismatch", null, null, checkpoint.TreeSize,
                        $"The stored log at size {checkpoint.TreeSize} does not hash to the root the witness recorded (signed {checkpoint.SignedAt:u}): "
                        + "its history was rewritten after that checkpoint was signed, checkpoints included.");
                }

                next++;
                continue;
            }

            if (!CryptographicOperations.FixedTimeEquals(tree.RootHash(), checkpoint.RootHash))
            {
                var first = Math.Min(segmentStart, Math.Max(tree.Size - 1, 0));
                return new AuditProblem("root_mismatch", first, null, checkpoint.TreeSize,
                    $"Events {segmentStart} to {tree.Size - 1} no longer hash to the root signed at size {checkpoint.TreeSize}: one of them was changed, "
                    + "with its stored leaf hash recomputed to hide it.");
            }

            verified++;
            latest = checkpoint;
            segmentStart = tree.Size;
            next++;
        }

        return null;
    }

    /// <summary>Narrows a root mismatch down to the first event whose leaf differs from the one the grain wrote.</summary>
    private async Task<AuditProblem> LocateAsync(
        string tenant, MerkleTree tree, AuditProblem problem, Func<long, Task<IReadOnlyList<byte[]>>>? trustedLeaves, CancellationToken cancellationToken)
    {
        if (trustedLeaves is null || problem.Kind != "root_mismatch" || problem.Sequence is not { } start || problem.CheckpointSize is not { } end)
        {
            return problem;
        }

        for (var position = start; position < end;)
        {
            var trusted = await trustedLeaves(position);
            if (trusted.Count == 0)
            {
                return problem;
            }

            foreach (var leaf in trusted)
            {
                if (position < end && !CryptographicOperations.FixedTimeEquals(leaf, tree.LeafHash(position)))
                {
                    var found = await _store.QueryAsync(tenant, new AuditQuery(AfterSequence: position - 1), 1, cancellationToken);
                    var requestId = found.Count == 1 && found[0].Sequence == position ? found[0].Event.RequestId : null;
                    return new AuditProblem("changed_event", position, requestId, end,
                        $"Event {position} (request {requestId}) differs from what the audit log wrote; its stored leaf hash was recomputed to hide it, "
                        + $"and the events no longer hash to the root signed at size {end}.");
                }

                position++;
            }
        }

        return problem;
    }

    private static bool BodyMatches(byte[]? body, byte[]? digest) =>
        body is null || (digest is not null && CryptographicOperations.FixedTimeEquals(SHA256.HashData(body), digest));
}
