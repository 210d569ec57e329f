using System.Buffers.Text;
using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Outpost.AuditLog.Signing;
using Outpost.AuditLog.Storage;
using Outpost.AuditLog.Verification;
using Outpost.Gateway.AuditLogs;
using Outpost.Gateway.Contracts;
using Outpost.Gateway.Errors;
using Outpost.Gateway.Security;
using Outpost.Grains.AuditLogs;
using Outpost.Identity;
using Outpost.Identity.Tenants;

namespace Outpost.Gateway.Endpoints;

/// <summary>
/// The caller's tenant's audit log: its events, NDJSON export, signed checkpoints, the keys that sign them, inclusion
/// and consistency proofs, and verification of the whole log against the database. All need <c>audit:read</c>.
/// </summary>
public static class AuditEndpoints
{
    /// <summary>The most events one page returns.</summary>
    public const int MaxPageSize = 1000;

    private const int DefaultPageSize = 100;

    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder endpoints)
    {
        var audit = endpoints.MapGroup("/v1/audit").WithTags("Audit").RequireAuthorization(Scopes.AuditRead);
        audit.MapGet("/events", ListEventsAsync).WithName("ListAuditEvents")
            .WithSummary("Lists audit events by time range, subject, client, action, decision, device or request id, in log order, with a cursor.");
        audit.MapGet("/events/{requestId}", GetEventAsync).WithName("GetAuditEvent").WithSummary("One audit event by its request id.");
        audit.MapGet("/export", ExportAsync).WithName("ExportAuditEvents").WithSummary("Exports the audit events of a time range as NDJSON.");
        audit.MapGet("/checkpoints/latest", GetLatestCheckpointAsync).WithName("GetLatestAuditCheckpoint")
            .WithSummary("The latest signed checkpoint (signs one when none exists).");
        audit.MapPost("/checkpoints", SignCheckpointAsync).WithName("SignAuditCheckpoint").WithSummary("Signs a checkpoint of the log as it is now.");
        audit.MapGet("/checkpoints", ListCheckpointsAsync).WithName("ListAuditCheckpoints").WithSummary("Lists signed checkpoints by tree size.");
        audit.MapGet("/keys", ListKeysAsync).WithName("ListAuditKeys").WithSummary("The public keys that sign checkpoints.");
        audit.MapGet("/proofs/inclusion", GetInclusionProofAsync).WithName("GetAuditInclusionProof")
            .WithSummary("Proves an event (by request id) is in the log at a tree size (default: a checkpoint that covers it).");
        audit.MapGet("/proofs/consistency", GetConsistencyProofAsync).WithName("GetAuditConsistencyProof")
            .WithSummary("Proves the log at one size extends the log at a smaller one.");
        audit.MapGet("/verify", VerifyAsync).WithName("VerifyAuditLog")
            .WithSummary("Recomputes the log from the database and checks every checkpoint; names the first bad event.");
        return endpoints;
    }

    /// <summary>The admin side: a tenant's retention and body storage, pruning on demand, verification of any tenant.</summary>
    public static RouteGroupBuilder MapTenantAuditApi(this RouteGroupBuilder admin)
    {
        ArgumentNullException.ThrowIfNull(admin);
        admin.MapPut("/tenants/{tenant}/audit", SetSettingsAsync).WithName("SetTenantAuditSettings").WithSummary("Sets a tenant's audit retention and body storage.");
        admin.MapGet("/tenants/{tenant}/audit", GetSettingsAsync).WithName("GetTenantAuditSettings").WithSummary("Gets a tenant's audit settings.");
        admin.MapPost("/tenants/{tenant}/audit/prune", PruneAsync).WithName("PruneTenantAudit").WithSummary("Prunes the tenant's expired audit segments now.");
        admin.MapGet("/tenants/{tenant}/audit/verify", VerifyTenantAsync).WithName("VerifyTenantAudit").WithSummary("Verifies a tenant's audit log.");
        admin.MapPost("/audit/keys/rotate", RotateKeyAsync).WithName("RotateAuditKey")
            .WithSummary("Makes a new audit key sign checkpoints from the next one on; older keys keep verifying what they signed.");
        admin.MapGet("/tenants/{tenant}/audit/events", ListTenantEventsAsync).WithName("ListTenantAuditEvents")
            .WithSummary("Lists a tenant's audit events, with the filters of /v1/audit/events; system administrators also read the log of unidentified callers.");
        return admin;
    }

    public static async Task<Ok<AuditEventPage>> ListEventsAsync(
        HttpContext context, ClaimsPrincipal user, AuditStore store, IClusterClient cluster, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var caller = CallerContext.From(user);
        return TypedResults.Ok(await ReadPageAsync(store, cluster, caller.Tenant, context.Request.Query, cancellationToken));
    }

    public static async Task<Ok<AuditEventPage>> ListTenantEventsAsync(
        string tenant, HttpContext context, ClaimsPrincipal user, AuditStore store, TenantStore tenants, IClusterClient cluster,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        await RequireAuditLogAsync(user, tenant, tenants, cancellationToken);
        return TypedResults.Ok(await ReadPageAsync(store, cluster, tenant, context.Request.Query, cancellationToken));
    }

    private static async Task<AuditEventPage> ReadPageAsync(
        AuditStore store, IClusterClient cluster, string tenant, IQueryCollection request, CancellationToken cancellationToken)
    {
        var query = ReadQuery(request);
        var limit = ReadLimit(request["limit"]);
        await LogStagedAsync(cluster, tenant);
        var entries = await store.QueryAsync(tenant, query, limit + 1, cancellationToken);
        var page = entries.Take(limit).Select(AuditEventResponse.From).ToList();
        var next = entries.Count > limit ? EncodeCursor(entries[limit - 1].Sequence) : null;
        return new AuditEventPage(page, next);
    }

    public static async Task<Ok<AuditEventResponse>> GetEventAsync(
        string requestId, ClaimsPrincipal user, AuditStore store, IClusterClient cluster, CancellationToken cancellationToken)
    {
        var caller = CallerContext.From(user);
        await LogStagedAsync(cluster, caller.Tenant);
        var entry = await FindAsync(store, caller.Tenant, requestId, cancellationToken);
        return TypedResults.Ok(AuditEventResponse.From(entry));
    }

    public static async Task ExportAsync(
        HttpContext context, ClaimsPrincipal user, AuditStore store, IClusterClient cluster, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var caller = CallerContext.From(user);
        var query = ReadQuery(context.Request.Query) with { AfterSequence = null };
        await LogStagedAsync(cluster, caller.Tenant);
        context.Response.ContentType = "application/x-ndjson";
        var json = context.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
        long? after = null;
        while (true)
        {
            var page = await store.QueryAsync(caller.Tenant, query with { AfterSequence = after }, MaxPageSize, cancellationToken);
            foreach (var entry in page)
            {
                await JsonSerializer.SerializeAsync(context.Response.Body, AuditEventResponse.From(entry), json, cancellationToken);
                await context.Response.Body.WriteAsync("\n"u8.ToArray(), cancellationToken);
            }

            await context.Response.Body.FlushAsync(cancellationToken);
            if (page.Count < MaxPageSize)
            {
                return;
            }

            after = page[^1].Sequence;
        }
    }

    public static async Task<Ok<AuditCheckpointResponse>> GetLatestCheckpointAsync(ClaimsPrincipal user, IClusterClient cluster)
    {
        var log = cluster.GetGrain<IAuditLogGrain>(CallerContext.From(user).Tenant);
        await log.IngestStagedAsync();
        var checkpoint = await log.GetLatestCheckpointAsync() ?? await SignAsync(log);
        return TypedResults.Ok(AuditCheckpointResponse.From(checkpoint));
    }

    public static async Task<Ok<AuditCheckpointResponse>> SignCheckpointAsync(ClaimsPrincipal user, IClusterClient cluster)
    {
        var log = cluster.GetGrain<IAuditLogGrain>(CallerContext.From(user).Tenant);
        await log.IngestStagedAsync();
        return TypedResults.Ok(AuditCheckpointResponse.From(await SignAsync(log)));
    }

    public static async Task<Ok<ListResponse<AuditCheckpointResponse>>> ListCheckpointsAsync(
        [FromQuery(Name = "from_size")] long? fromSize,
        [FromQuery(Name = "to_size")] long? toSize,
        ClaimsPrincipal user,
        AuditStore store,
        CancellationToken cancellationToken)
    {
        var caller = CallerContext.From(user);
        var checkpoints = await store.ReadCheckpointsAsync(caller.Tenant, fromSize ?? 0, toSize ?? long.MaxValue, cancellationToken);
        return TypedResults.Ok(new ListResponse<AuditCheckpointResponse>(checkpoints.TakeLast(MaxPageSize).Select(AuditCheckpointResponse.From).ToList()));
    }

    public static async Task<Ok<ListResponse<AuditKeyResponse>>> ListKeysAsync(Npgsql.NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var list = (await AuditSigner.ListAsync(dataSource, cancellationToken))
            .Select(key => new AuditKeyResponse(
                key.KeyId, key.Algorithm, Convert.ToBase64String(key.PublicKey), PemEncoding.WriteString("PUBLIC KEY", key.PublicKey), key.CreatedAt, key.Signing))
            .ToList();
        return TypedResults.Ok(new ListResponse<AuditKeyResponse>(list));
    }

    public static async Task<Ok<AuditKeyResponse>> RotateKeyAsync(
        ClaimsPrincipal user, AuditSigner signer, Npgsql.NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        AdminEndpoints.RequireSystem(user, "Only system administrators rotate the audit key.");
        var keyId = await signer.RotateAsync(cancellationToken);
        var keys = (await ListKeysAsync(dataSource, cancellationToken)).Value!;
        return TypedResults.Ok(keys.Data.Single(key => key.KeyId == keyId));
    }

    public static async Task<Ok<AuditInclusionProofResponse>> GetInclusionProofAsync(
        [FromQuery(Name = "request_id")] string? requestId,
        [FromQuery(Name = "tree_size")] long? treeSize,
        ClaimsPrincipal user,
        AuditStore store,
        IClusterClient cluster,
        CancellationToken cancellationToken)
    {
        var caller = CallerContext.From(user);
        if (string.IsNullOrEmpty(requestId))
        {
            throw ProblemException.BadRequest("request_id is required: the X-Request-Id of the request whose event to prove.");
        }

        var log = cluster.GetGrain<IAuditLogGrain>(caller.Tenant);
        await log.IngestStagedAsync();
        var entry = await FindAsync(store, caller.Tenant, requestId, cancellationToken);
        AuditCheckpoint? checkpoint = null;
        if (treeSize is null)
        {
            checkpoint = await log.GetLatestCheckpointAsync();
            if (checkpoint is null || checkpoint.TreeSize <= entry.Sequence)
            {
                checkpoint = await SignAsync(log);
            }
        }

        var size = treeSize ?? checkpoint!.TreeSize;
        var proof = await ProveAsync(() => log.GetInclusionProofAsync(entry.Sequence, size));
        var leaf = AuditLeaf.Encode(caller.Tenant, entry.Sequence, entry.Event);
        return TypedResults.Ok(new AuditInclusionProofResponse(
            requestId,
            proof.LeafIndex,
            proof.TreeSize,
            Convert.ToBase64String(leaf),
            Convert.ToBase64String(proof.LeafHash),
            proof.Path.Select(Convert.ToBase64String).ToList(),
            Convert.ToBase64String(proof.RootHash),
            checkpoint is null ? null : AuditCheckpointResponse.From(checkpoint)));
    }

    public static async Task<Ok<AuditConsistencyProofResponse>> GetConsistencyProofAsync(
        long? from, long? to, ClaimsPrincipal user, IClusterClient cluster)
    {
        if (from is null || to is null)
        {
            throw ProblemException.BadRequest("from and to are required: the two tree sizes (e.g. of two checkpoints).");
        }

        var log = cluster.GetGrain<IAuditLogGrain>(CallerContext.From(user).Tenant);
        var proof = await ProveAsync(() => log.GetConsistencyProofAsync(from.Value, to.Value));
        return TypedResults.Ok(new AuditConsistencyProofResponse(
            proof.FromSize, proof.ToSize, Convert.ToBase64String(proof.FromRoot), Convert.ToBase64String(proof.ToRoot),
            proof.Path.Select(Convert.ToBase64String).ToList()));
    }

    public static async Task<Ok<AuditVerificationResponse>> VerifyAsync(
        ClaimsPrincipal user, AuditVerifier verifier, IClusterClient cluster, CancellationToken cancellationToken) =>
        TypedResults.Ok(await VerifyTenantLogAsync(CallerContext.From(user).Tenant, verifier, cluster, cancellationToken));

    public static async Task<Ok<AuditSettingsResponse>> SetSettingsAsync(
        string tenant, AuditSettingsRequest request, ClaimsPrincipal user, TenantStore tenants, AuditSettingsCache settings,
        IClusterClient cluster, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        AdminEndpoints.RequireSystem(user, "Only system administrators set audit retention.");
        await RequireAuditLogAsync(user, tenant, tenants, cancellationToken);
        if (request.RetentionDays is < 1 or > 36500)
        {
            throw ProblemException.BadRequest("retention_days must be from 1 to 36500, or null to keep events forever.");
        }

        var updated = new AuditSettings(request.RetentionDays, request.StoreBodies ?? false);
        await settings.SetAsync(tenant, updated, cancellationToken);
        var pruned = await cluster.GetGrain<IAuditLogGrain>(tenant).PruneExpiredAsync();
        return TypedResults.Ok(new AuditSettingsResponse(tenant, updated.RetentionDays, updated.StoreBodies, pruned));
    }

    public static async Task<Ok<AuditSettingsResponse>> GetSettingsAsync(
        string tenant, ClaimsPrincipal user, TenantStore tenants, AuditStore store, CancellationToken cancellationToken)
    {
        await RequireAuditLogAsync(user, tenant, tenants, cancellationToken);
        var current = await store.GetSettingsAsync(tenant, cancellationToken);
        var prune = await store.LatestPruneAsync(tenant, cancellationToken);
        return TypedResults.Ok(new AuditSettingsResponse(tenant, current.RetentionDays, current.StoreBodies, prune?.TreeSize ?? 0));
    }

    public static async Task<Ok<AuditSettingsResponse>> PruneAsync(
        string tenant, ClaimsPrincipal user, TenantStore tenants, AuditStore store, IClusterClient cluster, CancellationToken cancellationToken)
    {
        AdminEndpoints.RequireSystem(user, "Only system administrators prune audit logs.");
        await RequireAuditLogAsync(user, tenant, tenants, cancellationToken);
        var pruned = await cluster.GetGrain<IAuditLogGrain>(tenant).PruneExpiredAsync();
        var current = await store.GetSettingsAsync(tenant, cancellationToken);
        return TypedResults.Ok(new AuditSettingsResponse(tenant, current.RetentionDays, current.StoreBodies, pruned));
    }

    public static async Task<Ok<AuditVerificationResponse>> VerifyTenantAsync(
        string tenant, ClaimsPrincipal user, AuditVerifier verifier, IClusterClient cluster, CancellationToken cancellationToken)
    {
        AdminEndpoints.RequireSystem(user, "Only system administrators verify other tenants' audit logs.");
        return TypedResults.Ok(await VerifyTenantLogAsync(tenant, verifier, cluster, cancellationToken));
    }

    /// <summary>
    /// A tenant whose audit log the caller may manage: its own or, for system administrators, any tenant and the log of
    /// unidentified callers (whose retention only they can set).
    /// </summary>
    private static async Task RequireAuditLogAsync(ClaimsPrincipal user, string tenant, TenantStore tenants, CancellationToken cancellationToken)
    {
        if (tenant == AuditMiddleware.UnauthenticatedTenant)
        {
            AdminEndpoints.RequireSystem(user, "Only system administrators manage the audit log of unidentified callers.");
            return;
        }

        await AdminEndpoints.RequireManagedTenantAsync(user, tenant, tenants, cancellationToken);
    }

    private static async Task<AuditVerificationResponse> VerifyTenantLogAsync(
        string tenant, AuditVerifier verifier, IClusterClient cluster, CancellationToken cancellationToken)
    {
        var log = cluster.GetGrain<IAuditLogGrain>(tenant);
        try
        {
            // Sign what the log holds now, so verification covers every event written so far.
            await log.IngestStagedAsync();
            await log.SignCheckpointAsync();
        }
        catch (AuditIntegrityException)
        {
            // The grain already found the stored log changed; verification says where.
        }

        var verification = await verifier.VerifyAsync(
            tenant, () => log.CountAsync(), from => log.GetLeafHashesAsync(from, 1000), cancellationToken);
        return AuditVerificationResponse.From(verification);
    }

    // Every read of a log first logs what waits in the intake: a caller who got a response finds its event.
    private static Task<int> LogStagedAsync(IClusterClient cluster, string tenant) => cluster.GetGrain<IAuditLogGrain>(tenant).IngestStagedAsync();

    private static async Task<AuditCheckpoint> SignAsync(IAuditLogGrain log)
    {
        try
        {
            return await log.SignCheckpointAsync();
        }
        catch (AuditIntegrityException ex)
        {
            throw new ProblemException(StatusCodes.Status409Conflict, "audit-integrity", "Audit log does not match its signed history", ex.Message);
        }
    }

    private static async Task<T> ProveAsync<T>(Func<Task<T>> prove)
    {
        try
        {
            return await prove();
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw ProblemException.BadRequest(ex.Message.Split(" (Parameter", 2)[0]);
        }
    }

    private static async Task<AuditEntry> FindAsync(AuditStore store, string tenant, string requestId, CancellationToken cancellationToken)
    {
        var found = await store.QueryAsync(tenant, new AuditQuery(RequestId: requestId), 1, cancellationToken);
        return found.Count == 1
            ? found[0]
            : throw new ProblemException(StatusCodes.Status404NotFound, "audit-event-not-found", "Audit event not found",
                $"No audit event of this tenant has request id '{requestId}'.");
    }

    private static AuditQuery ReadQuery(IQueryCollection query) => new(
        From: SpendEndpoints.ParseTime(Single(query, "from"), "from"),
        To: SpendEndpoints.ParseTime(Single(query, "to"), "to"),
        Subject: Single(query, "subject"),
        ClientId: Single(query, "client_id"),
        Action: Single(query, "action"),
        Decision: Single(query, "decision"),
        Device: Single(query, "device"),
        RequestId: Single(query, "request_id"),
        AfterSequence: DecodeCursor(Single(query, "cursor")));

    private static string? Single(IQueryCollection query, string name) =>
        query[name].Count switch
        {
            0 => null,
            1 => query[name][0] is { Length: > 0 } value ? value : throw ProblemException.BadRequest($"{name} is empty."),
            _ => throw ProblemException.BadRequest($"{name} is given more than once."),
        };

    private static int ReadLimit(Microsoft.Extensions.Primitives.StringValues value) =>
        value.Count == 0 ? DefaultPageSize
        : int.TryParse(value[0], NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit is >= 1 and <= MaxPageSize ? limit
        : throw ProblemException.BadRequest($"limit must be a whole number from 1 to {MaxPageSize}.");

    private static string EncodeCursor(long sequence) =>
        Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(sequence.ToString(CultureInfo.InvariantCulture)));

    private static long? DecodeCursor(string? cursor)
    {
        if (cursor is null)
        {
            return null;
        }

        try
        {
            var text = System.Text.Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
            {
                return sequence;
            }
        }
        catch (FormatException)
        {
        }

        throw ProblemException.BadRequest("cursor is not one this API returned.");
    }
}
