using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Outpost.AuditLog.Reading;
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
        HttpContext context, ClaimsPrincipal user, AuditReader reader, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var caller = CallerContext.From(user);
        return TypedResults.Ok(await ReadPageAsync(reader, caller.Tenant, context.Request.Query, cancellationToken));
    }

    public static async Task<Ok<AuditEventPage>> ListTenantEventsAsync(
        string tenant, HttpContext context, ClaimsPrincipal user, AuditReader reader, TenantStore tenants, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        await RequireAuditLogAsync(user, tenant, tenants, cancellationToken);
        return TypedResults.Ok(await ReadPageAsync(reader, tenant, context.Request.Query, cancellationToken));
    }

    private static async Task<AuditEventPage> ReadPageAsync(AuditReader reader, string tenant, IQueryCollection request, CancellationToken cancellationToken)
    {
        var page = await reader.ReadPageAsync(tenant, ReadQuery(request), ReadLimit(request["limit"]), cancellationToken);
        return new AuditEventPage(page.Entries.Select(AuditEventResponse.From).ToList(), page.NextCursor);
    }

    public static async Task<Ok<AuditEventResponse>> GetEventAsync(
        string requestId, ClaimsPrincipal user, AuditReader reader, CancellationToken cancellationToken) =>
        TypedResults.Ok(AuditEventResponse.From(await Read(() => reader.FindAsync(CallerContext.From(user).Tenant, requestId, cancellationToken))));

    public static async Task ExportAsync(HttpContext context, ClaimsPrincipal user, AuditReader reader, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var caller = CallerContext.From(user);
        var query = ReadQuery(context.Request.Query);
        context.Response.ContentType = "application/x-ndjson";
        var json = context.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
        var written = 0;
        await foreach (var entry in reader.ExportAsync(caller.Tenant, query, cancellationToken))
        {
            await JsonSerializer.SerializeAsync(context.Response.Body, AuditEventResponse.From(entry), json, cancellationToken);
            await context.Response.Body.WriteAsync("\n"u8.ToArray(), cancellationToken);
            if (++written % AuditReader.MaxPageSize == 0)
            {
                await context.Response.Body.FlushAsync(cancellationToken);
            }
        }

        await context.Response.Body.FlushAsync(cancellationToken);
    }

    public static async Task<Ok<AuditCheckpointResponse>> GetLatestCheckpointAsync(ClaimsPrincipal user, AuditReader reader) =>
        TypedResults.Ok(AuditCheckpointResponse.From(await Read(() => reader.LatestCheckpointAsync(CallerContext.From(user).Tenant))));

    public static async Task<Ok<AuditCheckpointResponse>> SignCheckpointAsync(ClaimsPrincipal user, AuditReader reader) =>
        TypedResults.Ok(AuditCheckpointResponse.From(await Read(() => reader.SignCheckpointAsync(CallerContext.From(user).Tenant))));

    public static async Task<Ok<ListResponse<AuditCheckpointResponse>>> ListCheckpointsAsync(
        [FromQuery(Name = "from_size")] long? fromSize,
        [FromQuery(Name = "to_size")] long? toSize,
        ClaimsPrincipal user,
        AuditStore store,
        CancellationToken cancellationToken)
    {
        var caller = CallerContext.From(user);
        var checkpoints = await store.ReadCheckpointsAsync(caller.Tenant, fromSize ?? 0, toSize ?? long.MaxValue, cancellationToken);
        return TypedResults.Ok(new ListResponse<AuditCheckpointResponse>(checkpoints.TakeLast(AuditReader.MaxPageSize).Select(AuditCheckpointResponse.From).ToList()));
    }

    public static async Task<Ok<ListResponse<AuditKeyResponse>>> ListKeysAsync(AuditSigner signer, CancellationToken cancellationToken)
    {
        // Only endorsed keys are published: a row someone added to the table without the master key is no audit key.
        var list = (await signer.ListAsync(cancellationToken))
            .Where(key => key.Endorsed)
            .Select(key => new AuditKeyResponse(
                key.KeyId, key.Algorithm, Convert.ToBase64String(key.PublicKey), PemEncoding.WriteString("PUBLIC KEY", key.PublicKey), key.CreatedAt, key.Signing))
            .ToList();
        return TypedResults.Ok(new ListResponse<AuditKeyResponse>(list));
    }

    public static async Task<Ok<AuditKeyResponse>> RotateKeyAsync(
        ClaimsPrincipal user, AuditSigner signer, CancellationToken cancellationToken)
    {
        AdminEndpoints.RequireSystem(user, "Only system administrators rotate the audit key.");
        var keyId = await signer.RotateAsync(cancellationToken);
        var keys = (await ListKeysAsync(signer, cancellationToken)).Value!;
        return TypedResults.Ok(keys.Data.Single(key => key.KeyId == keyId));
    }

    public static async Task<Ok<AuditInclusionProofResponse>> GetInclusionProofAsync(
        [FromQuery(Name = "request_id")] string? requestId,
        [FromQuery(Name = "tree_size")] long? treeSize,
        ClaimsPrincipal user,
        AuditReader reader,
        CancellationToken cancellationToken)
    {
        var caller = CallerContext.From(user);
        if (string.IsNullOrEmpty(requestId))
        {
            throw ProblemException.BadRequest("request_id is required: the X-Request-Id of the request whose event to prove.");
        }

        var inclusion = await Read(() => reader.ProveInclusionAsync(caller.Tenant, requestId, treeSize, cancellationToken));
        var (proof, leaf, checkpoint) = (inclusion.Proof, inclusion.Leaf, inclusion.Checkpoint);
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
        long? from, long? to, ClaimsPrincipal user, AuditReader reader)
    {
        if (from is null || to is null)
        {
            throw ProblemException.BadRequest("from and to are required: the two tree sizes (e.g. of two checkpoints).");
        }

        var proof = await Read(() => reader.ProveConsistencyAsync(CallerContext.From(user).Tenant, from.Value, to.Value));
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

    // The reader's failures, as the caller's problems.
    private static async Task<T> Read<T>(Func<Task<T>> read)
    {
        try
        {
            return await read();
        }
        catch (AuditIntegrityException ex)
        {
            throw new ProblemException(StatusCodes.Status409Conflict, "audit-integrity", "Audit log does not match its signed history", ex.Message);
        }
        catch (AuditEventNotFoundException ex)
        {
            throw new ProblemException(StatusCodes.Status404NotFound, "audit-event-not-found", "Audit event not found", ex.Message);
        }
        catch (ArgumentOutOfRangeException ex)
        {
            // A tree size the log does not have.
            throw ProblemException.BadRequest(ex.Message.Split(" (Parameter", 2)[0]);
        }
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
        AfterSequence: Single(query, "cursor") is { } cursor ? DecodeCursor(cursor) : null);

    private static string? Single(IQueryCollection query, string name) =>
        query[name].Count switch
        {
            0 => null,
            1 => query[name][0] is { Length: > 0 } value ? value : throw ProblemException.BadRequest($"{name} is empty."),
            _ => throw ProblemException.BadRequest($"{name} is given more than once."),
        };

    private static int ReadLimit(Microsoft.Extensions.Primitives.StringValues value) =>
        value.Count == 0 ? AuditReader.DefaultPageSize
        : int.TryParse(value[0], NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit is >= 1 and <= AuditReader.MaxPageSize ? limit
        : throw ProblemException.BadRequest($"limit must be a whole number from 1 to {AuditReader.MaxPageSize}.");

    private static long DecodeCursor(string cursor)
    {
        try
        {
            return AuditReader.DecodeCursor(cursor);
        }
        catch (FormatException)
        {
            throw ProblemException.BadRequest("cursor is not one this API returned.");
        }
    }
}
