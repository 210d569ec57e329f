using System.Buffers.Text;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Outpost.AuditLog.Storage;
using Outpost.Grains.AuditLogs;

namespace Outpost.AuditLog.Reading;

/// <summary>
/// Reads a tenant's audit log for its API: pages with opaque cursors, the whole log as a stream, one event by request
/// id, and inclusion and consistency proofs. Every read first has the tenant's grain log what waits in the intake, so
/// a caller who got a response finds its event. Failures are the caller's to map: <see cref="AuditEventNotFoundException"/>,
/// <see cref="FormatException"/> for a cursor this reader did not issue, <see cref="ArgumentOutOfRangeException"/> for
/// a tree size the log does not have, and <see cref="AuditIntegrityException"/> when the log no longer matches what it signed.
/// </summary>
public sealed class AuditReader(AuditStore store, IGrainFactory grains)
{
    /// <summary>The most events in one page, and in one read of an export.</summary>
    public const int MaxPageSize = 1000;

    public const int DefaultPageSize = 100;

    /// <summary>The most stored body bytes one page holds (a page of events with large bodies has fewer events).</summary>
    public const long MaxPageBodyBytes = 8 * 1024 * 1024;

    /// <summary>The events that match <paramref name="query"/>, after its cursor, at most <paramref name="limit"/> of them.</summary>
    public async Task<AuditPage> ReadPageAsync(string tenant, AuditQuery query, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxPageSize);
        await LogStagedAsync(tenant);

        // A page stops early once its bodies reach MaxPageBodyBytes: its cursor then continues from there.
        var (entries, more) = await store.QueryPageAsync(tenant, query, limit, MaxPageBodyBytes, cancellationToken);
        var next = more && entries.Count > 0 ? EncodeCursor(entries[^1].Sequence) : null;
        return new AuditPage(entries.ToList(), next);
    }

    /// <summary>
    /// Every event that matches <paramref name="query"/> (its cursor ignored), oldest first, read a page at a time (at most
    /// <see cref="MaxPageSize"/> events or <see cref="MaxPageBodyBytes"/> of bodies in memory at once).
    /// </summary>
    public async IAsyncEnumerable<AuditEntry> ExportAsync(
        string tenant, AuditQuery query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        await LogStagedAsync(tenant);
        long? after = null;
        while (true)
        {
            var (page, more) = await store.QueryPageAsync(tenant, query with { AfterSequence = after }, MaxPageSize, MaxPageBodyBytes, cancellationToken);
            foreach (var entry in page)
            {
                yield return entry;
            }

            if (!more || page.Count == 0)
            {
                yield break;
            }

            after = page[^1].Sequence;
        }
    }

    /// <summary>The tenant's event of <paramref name="requestId"/>.</summary>
    public async Task<AuditEntry> FindAsync(string tenant, string requestId, CancellationToken cancellationToken = default)
    {
        await LogStagedAsync(tenant);
        return await FindLoggedAsync(tenant, requestId, cancellationToken);
    }

    /// <summary>
    /// The proof that <paramref name="requestId"/>'s event is in the log at <paramref name="treeSize"/>; without one, at
    /// the latest checkpoint, signing a new one when the latest does not cover the event yet.
    /// </summary>
    public async Task<AuditInclusion> ProveInclusionAsync(string tenant, string requestId, long? treeSize, CancellationToken cancellationToken = default)
    {
        var log = grains.GetGrain<IAuditLogGrain>(tenant);
        await log.IngestStagedAsync();
        var entry = await FindLoggedAsync(tenant, requestId, cancellationToken);
        AuditCheckpoint? checkpoint = null;
        if (treeSize is null)
        {
            checkpoint = await log.GetLatestCheckpointAsync();
            if (checkpoint is null || checkpoint.TreeSize <= entry.Sequence)
            {
                checkpoint = await log.SignCheckpointAsync();
            }
        }

        var proof = await log.GetInclusionProofAsync(entry.Sequence, treeSize ?? checkpoint!.TreeSize);
        return new AuditInclusion(entry, AuditLeaf.Encode(tenant, entry.Sequence, entry.Event), proof, checkpoint);
    }

    /// <summary>The proof that the log at <paramref name="fromSize"/> is a prefix of the log at <paramref name="toSize"/>.</summary>
    public Task<AuditConsistencyProof> ProveConsistencyAsync(string tenant, long fromSize, long toSize) =>
        grains.GetGrain<IAuditLogGrain>(tenant).GetConsistencyProofAsync(fromSize, toSize);

    /// <summary>The latest signed checkpoint after logging what is staged; one is signed when there is none yet.</summary>
    public async Task<AuditCheckpoint> LatestCheckpointAsync(string tenant)
    {
        var log = grains.GetGrain<IAuditLogGrain>(tenant);
        await log.IngestStagedAsync();
        return await log.GetLatestCheckpointAsync() ?? await log.SignCheckpointAsync();
    }

    /// <summary>A checkpoint of the log as it is now, after logging what is staged.</summary>
    public async Task<AuditCheckpoint> SignCheckpointAsync(string tenant)
    {
        var log = grains.GetGrain<IAuditLogGrain>(tenant);
        await log.IngestStagedAsync();
        return await log.SignCheckpointAsync();
    }

    /// <summary>The cursor of the page that starts after <paramref name="sequence"/>: opaque to clients.</summary>
    public static string EncodeCursor(long sequence) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(sequence.ToString(CultureInfo.InvariantCulture)));

    /// <summary>The position a cursor of <see cref="EncodeCursor"/> stands for; <see cref="FormatException"/> for anything else.</summary>
    public static long DecodeCursor(string cursor)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
            {
                return sequence;
            }
        }
        catch (FormatException)
        {
        }

        throw new FormatException("The cursor is not one this API returned.");
    }

    private Task<int> LogStagedAsync(string tenant) => grains.GetGrain<IAuditLogGrain>(tenant).IngestStagedAsync();

    private async Task<AuditEntry> FindLoggedAsync(string tenant, string requestId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestId);
        var found = await store.QueryAsync(tenant, new AuditQuery(RequestId: requestId), 1, cancellationToken);
        return found.Count == 1
            ? found[0]
            : throw new AuditEventNotFoundException($"No audit event of this tenant has request id '{requestId}'.");
    }
}
