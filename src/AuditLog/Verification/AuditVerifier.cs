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
/// no longer agrees. Keys are trusted only when endorsed under the master key (<see cref="AuditSigner"/>), and the
/// latest prune only when an endorsed key signed it: rows added by someone without the master key are not believed.
/// </summary>
public sealed class AuditVerifier(NpgsqlDataSource dataSource, AuditSigner signer)
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
        ArgumentException.ThrowIfNullOrEmpty(tenant);
        long? knownSize = logSize is null ? null : await logSize();
        var prune = await _store.LatestPruneAsync(tenant, cancellationToken);
        var tree = prune is null ? new MerkleTree() : MerkleTree.FromPrunedPrefix(prune.TreeSize, prune.CompactRange);
        var stored = await _store.ReadCheckpointsAsync(tenant, tree.Size, long.MaxValue, cancellationToken);
        var allKeys = await signer.ListAsync(cancellationToken);
        var keys = allKeys.Where(k => k.Endorsed).ToDictionary(k => k.KeyId, k => k.PublicKey, StringComparer.Ordinal);
        var unendorsed = allKeys.Where(k => !k.Endorsed).Select(k => k.KeyId).ToHashSet(StringComparer.Ordinal);

        // Read first: an event staged now is logged after this reading, so it is either counted here or checked below.
        var staged = await _intake.CountAsync(tenant, cancellationToken);
        var run = new VerificationRun(tenant, tree, stored, witnessed, staged, knownSize);

        var problem = CheckPrune(tenant, prune, keys) ?? run.CheckSignatures(keys, unendorsed) ?? run.CheckReachedCheckpoints();
        if (problem is null)
        {
            await foreach (var entry in _store.ReadEventsAsync(tenant, tree.Size, cancellationToken))
            {
                if ((problem = run.Append(entry)) is not null)
                {
                    break;
                }
            }
        }

        problem ??= await run.FinishAsync(logSize);
        return run.Result(problem is null ? null : await LocateAsync(tenant, tree, problem, trustedLeaves, cancellationToken));
    }

    /// <summary>A prune is honoured only when an endorsed audit key signed it, or migration 0010 recorded it as it is.</summary>
    private static AuditProblem? CheckPrune(string tenant, AuditPrune? prune, Dictionary<string, byte[]> keys)
    {
        if (prune is null || prune.Legacy)
        {
            return null;
        }

        if (prune.KeyId is { } keyId && prune.Signature is { } signature && keys.TryGetValue(keyId, out var publicKey)
            && AuditSigner.VerifyPrune(tenant, prune.TreeSize, prune.CompactRange, signature, publicKey))
        {
            return null;
        }

        return new AuditProblem(AuditProblemKind.UnsignedPrune, prune.TreeSize, null, prune.TreeSize,
            $"The prune at size {prune.TreeSize} is not signed by an audit key{(prune.KeyId is { } named && !keys.ContainsKey(named) ? $" ('{named}' is not an endorsed audit key)" : string.Empty)}: "
            + $"the {prune.TreeSize} events before it were deleted without the audit log's authority.");
    }

    /// <summary>Narrows a root mismatch down to the first event whose leaf differs from the one the grain wrote.</summary>
    private async Task<AuditProblem> LocateAsync(
        string tenant, MerkleTree tree, AuditProblem problem, Func<long, Task<IReadOnlyList<byte[]>>>? trustedLeaves, CancellationToken cancellationToken)
    {
        if (trustedLeaves is null || problem.Kind != AuditProblemKind.RootMismatch || problem.Sequence is not { } start || problem.CheckpointSize is not { } end)
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
                    return new AuditProblem(AuditProblemKind.ChangedEvent, position, requestId, end,
                        $"Event {position} (request {requestId}) differs from what the audit log wrote; its stored leaf hash was recomputed to hide it, "
                        + $"and the events no longer hash to the root signed at size {end}.");
                }

                position++;
            }
        }

        return problem;
    }
}
