using System.Security.Cryptography;
using Outpost.AuditLog.Merkle;
using Outpost.AuditLog.Signing;
using Outpost.AuditLog.Storage;
using Outpost.Grains.AuditLogs;

namespace Outpost.AuditLog.Verification;

/// <summary>
/// One pass of <see cref="AuditVerifier"/> over one tenant's log: the tree being rebuilt, the checkpoints in size order
/// (stored and witnessed), and what has been checked so far. Each step answers the first problem it finds, or null.
/// </summary>
internal sealed class VerificationRun
{
    private readonly string _tenant;
    private readonly MerkleTree _tree;
    private readonly List<AuditCheckpoint> _checkpoints;
    private readonly HashSet<AuditCheckpoint> _witnessed;
    private readonly long _prunedSize;
    private readonly long _staged;
    private readonly long? _knownSize;
    private readonly List<(long Sequence, string RequestId)> _beyondKnown = [];
    private int _next;
    private long _segmentStart;
    private long _eventsChecked;
    private int _checkpointsChecked;
    private AuditCheckpoint? _latest;

    public VerificationRun(
        string tenant, MerkleTree tree, IEnumerable<AuditCheckpoint> stored, IEnumerable<AuditCheckpoint>? witnessed, long staged, long? knownSize)
    {
        _tenant = tenant;
        _tree = tree;
        _prunedSize = tree.Size;
        _segmentStart = tree.Size;
        _staged = staged;
        _knownSize = knownSize;

        // A witness's checkpoints of other tenants, and of sizes retention has pruned, are not this log's to check.
        _witnessed = new HashSet<AuditCheckpoint>(
            (witnessed ?? []).Where(c => c.Tenant == tenant && c.TreeSize > _prunedSize), ReferenceEqualityComparer.Instance);

        // Stored and witnessed checkpoints are checked alike, in size order; a witnessed one names itself when it fails.
        _checkpoints = stored.Concat(_witnessed).OrderBy(c => c.TreeSize).ToList();
    }

    public MerkleTree Tree => _tree;

    public AuditVerification Result(AuditProblem? problem) =>
        new(_tenant, problem is null, _eventsChecked, _checkpointsChecked, _prunedSize, _tree.Size, _latest, problem, _witnessed.Count, _staged);

    /// <summary>Every checkpoint's signature, against the audit keys' public halves.</summary>
    public AuditProblem? CheckSignatures(IReadOnlyDictionary<string, byte[]> keys, IReadOnlySet<string> unendorsed)
    {
        foreach (var checkpoint in _checkpoints)
        {
            if (keys.TryGetValue(checkpoint.KeyId, out var publicKey) && AuditSigner.Verify(checkpoint, publicKey))
            {
                continue;
            }

            return _witnessed.Contains(checkpoint)
                ? new AuditProblem(AuditProblemKind.BadWitness, null, null, checkpoint.TreeSize,
                    $"The witnessed checkpoint at size {checkpoint.TreeSize} does not verify with any audit key: the witness copy is not authentic.")
                : unendorsed.Contains(checkpoint.KeyId)
                    ? new AuditProblem(AuditProblemKind.UnendorsedKey, null, null, checkpoint.TreeSize,
                        $"The checkpoint at size {checkpoint.TreeSize} is signed with key '{checkpoint.KeyId}', which is in the key table but was not created under the master key.")
                : !keys.ContainsKey(checkpoint.KeyId)
                    ? new AuditProblem(AuditProblemKind.UnknownKey, null, null, checkpoint.TreeSize,
                        $"The checkpoint at size {checkpoint.TreeSize} names key '{checkpoint.KeyId}', which is not an audit key.")
                    : new AuditProblem(AuditProblemKind.BadSignature, null, null, checkpoint.TreeSize,
                        $"The signature of the checkpoint at size {checkpoint.TreeSize} does not verify: the checkpoint was changed.");
        }

        return null;
    }

    /// <summary>Recomputes one stored event and appends it, then checks every checkpoint the tree has now reached.</summary>
    public AuditProblem? Append(AuditEntry entry)
    {
        var expected = _tree.Size;
        var requestId = entry.Event.RequestId;
        if (entry.Sequence != expected)
        {
            return new AuditProblem(AuditProblemKind.MissingEvent, expected, null, null,
                $"Event {expected} is missing: the next stored event is {entry.Sequence} (request {requestId}).");
        }

        if (_knownSize is { } size && entry.Sequence >= size)
        {
            _beyondKnown.Add((entry.Sequence, requestId));
        }

        var leaf = AuditLeaf.Hash(_tenant, expected, entry.Event);
        if (entry.LeafHash is not { } stored || !CryptographicOperations.FixedTimeEquals(leaf, stored))
        {
            return new AuditProblem(AuditProblemKind.ChangedEvent, expected, requestId, null,
                $"Event {expected} (request {requestId}) no longer matches its leaf hash: a field was changed or the row was moved.");
        }

        if (!BodyMatches(entry.Event.RequestBody, entry.Event.RequestSha256) || !BodyMatches(entry.Event.ResponseBody, entry.Event.ResponseSha256))
        {
            return new AuditProblem(AuditProblemKind.BodyMismatch, expected, requestId, null,
                $"Event {expected} (request {requestId}) stores a body that does not match its digest.");
        }

        _tree.Append(leaf);
        _eventsChecked++;
        return CheckReachedCheckpoints();
    }

    /// <summary>Every checkpoint whose size the tree has reached: its root, and for a stored one, the segment it closes.</summary>
    public AuditProblem? CheckReachedCheckpoints()
    {
        while (_next < _checkpoints.Count && _checkpoints[_next].TreeSize == _tree.Size)
        {
            var checkpoint = _checkpoints[_next];
            var matches = CryptographicOperations.FixedTimeEquals(_tree.RootHash(), checkpoint.RootHash);
            if (_witnessed.Contains(checkpoint))
            {
                if (!matches)
                {
                    return new AuditProblem(AuditProblemKind.WitnessMismatch, null, null, checkpoint.TreeSize,
                        $"The stored log at size {checkpoint.TreeSize} does not hash to the root the witness recorded (signed {checkpoint.SignedAt:u}): "
                        + "its history was rewritten after that checkpoint was signed, checkpoints included.");
                }

                _next++;
                continue;
            }

            if (!matches)
            {
                var first = Math.Min(_segmentStart, Math.Max(_tree.Size - 1, 0));
                return new AuditProblem(AuditProblemKind.RootMismatch, first, null, checkpoint.TreeSize,
                    $"Events {_segmentStart} to {_tree.Size - 1} no longer hash to the root signed at size {checkpoint.TreeSize}: one of them was changed, "
                    + "with its stored leaf hash recomputed to hide it.");
            }

            _checkpointsChecked++;
            _latest = checkpoint;
            _segmentStart = _tree.Size;
            _next++;
        }

        return null;
    }

    /// <summary>
    /// After the last stored event: a row beyond what the grain says it wrote (asked again now) is foreign, and a
    /// checkpoint beyond the end means the log was cut short.
    /// </summary>
    public async Task<AuditProblem?> FinishAsync(Func<Task<long>>? logSize)
    {
        if (_beyondKnown.Count > 0 && logSize is not null)
        {
            var sizeAfter = await logSize();
            var foreign = _beyondKnown.Find(row => row.Sequence >= sizeAfter);
            if (foreign.RequestId is not null)
            {
                return new AuditProblem(AuditProblemKind.ForeignEvent, foreign.Sequence, foreign.RequestId, null,
                    $"Event {foreign.Sequence} (request {foreign.RequestId}) lies beyond the {sizeAfter} events the audit log wrote: it was added outside Outpost.");
            }
        }

        if (_next < _checkpoints.Count)
        {
            var checkpoint = _checkpoints[_next];
            return new AuditProblem(AuditProblemKind.Truncated, _tree.Size, null, checkpoint.TreeSize,
                $"The {(_witnessed.Contains(checkpoint) ? "witnessed " : "")}checkpoint at size {checkpoint.TreeSize} covers events up to {checkpoint.TreeSize - 1}, "
                + $"but the stored log ends before event {_tree.Size}.");
        }

        return null;
    }

    private static bool BodyMatches(byte[]? body, byte[]? digest) =>
        body is null || (digest is not null && CryptographicOperations.FixedTimeEquals(SHA256.HashData(body), digest));
}
