using System.Globalization;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Outpost.Execution.Artifacts;
using Outpost.Execution.Runs;
using Outpost.Gateway.AuditLogs;
using Outpost.Gateway.Contracts;
using Outpost.Gateway.Errors;
using Outpost.Gateway.Security;
using Outpost.Gateway.Tasks;
using Outpost.Grains.TaskRuns;
using Outpost.Identity;

namespace Outpost.Gateway.Endpoints;

public static class TasksEndpoints
{
    public static IEndpointRouteBuilder MapTasksApi(this IEndpointRouteBuilder endpoints)
    {
        var tasks = endpoints.MapGroup("/v1/tasks").WithTags("Tasks");
        tasks.MapPost("/", SubmitAsync).RequireAuthorization(Scopes.CodeExecute)
            .WithName("SubmitTask").WithSummary("Submits a task run; Idempotency-Key makes a retried submission return the same run.");
        tasks.MapGet("/", ListAsync).RequireAuthorization(Scopes.TasksRead)
            .WithName("ListTasks").WithSummary("Lists this tenant's runs, newest first, optionally by status.");
        tasks.MapGet("/signing-keys", SigningKeysAsync).AllowAnonymous()
            .WithName("ListTaskSigningKeys").WithSummary("The published task-signing public keys that endorse manifests.");
        tasks.MapGet("/{id}", GetAsync).RequireAuthorization(Scopes.TasksRead)
            .WithName("GetTask").WithSummary("Gets one run.");
        tasks.MapGet("/{id}/logs", LogsAsync).RequireAuthorization(Scopes.TasksRead)
            .WithName("GetTaskLogs").WithSummary("The run's log: server-sent events while it runs (resumable with Last-Event-ID), the whole log as text after.");
        tasks.MapPost("/{id}/cancel", CancelAsync).RequireAuthorization(Scopes.CodeExecute)
            .WithName("CancelTask").WithSummary("Cancels a run that has not ended; a running task's process tree is killed.");
        tasks.MapGet("/{id}/attestation", AttestationAsync).RequireAuthorization(Scopes.TasksRead)
            .WithName("GetTaskAttestation").WithSummary("The signed manifest, its endorsement and the device's signed result, for offline checking.");
        return endpoints;
    }

    public static async Task<IResult> SubmitAsync(
        SubmitTaskRequest? request, [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey, TaskSubmissions submissions, HttpContext context, CancellationToken cancellationToken)
    {
        var requestId = AuditFeature.Of(context)?.RequestId ?? Guid.NewGuid().ToString("N");
        var (run, created) = await submissions.SubmitAsync(request, context.User, idempotencyKey, requestId, cancellationToken);
        var response = TaskResponses.From(run);
        return created ? TypedResults.Created($"/v1/tasks/{run.RunId}", response) : TypedResults.Ok(response);
    }

    public static async Task<Ok<TaskListResponse>> ListAsync(
        string? status, int? limit, DateTimeOffset? before, TaskRunIndex index, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var caller = CallerContext.From(user);
        if (status is not null && TaskRunStatuses.Parse(status) is null)
        {
            throw new ProblemException(StatusCodes.Status400BadRequest, "invalid-status", "Invalid status",
                $"status '{status}' is not one of {string.Join(", ", Enum.GetValues<TaskRunStatus>().Where(s => s != TaskRunStatus.None).Select(TaskRunStatuses.Name))}.");
        }

        var size = Math.Clamp(limit ?? 50, 1, 200);
        var rows = await index.ListAsync(caller.Tenant, status, size, before, cancellationToken);
        return TypedResults.Ok(new TaskListResponse(rows.Select(TaskResponses.From).ToList(), rows.Count == size ? rows[^1].CreatedAt : null));
    }

    public static async Task<Ok<ListResponse<TaskSigningKeyResponse>>> SigningKeysAsync(IClusterClient cluster) =>
        TypedResults.Ok(new ListResponse<TaskSigningKeyResponse>((await cluster.GetGrain<ITaskKeyRingGrain>(ITaskKeyRingGrain.Key).ListAsync()).Select(TaskResponses.From).ToList()));

    public static async Task<Ok<TaskResponse>> GetAsync(string id, IClusterClient cluster, ClaimsPrincipal user) =>
        TypedResults.Ok(TaskResponses.From(await OwnRunAsync(cluster, id, user)));

    public static async Task<Ok<TaskResponse>> CancelAsync(string id, IClusterClient cluster, HttpContext context)
    {
        var run = await OwnRunAsync(cluster, id, context.User);
        var caller = CallerContext.From(context.User);
        try
        {
            return TypedResults.Ok(TaskResponses.From(await cluster.GetGrain<ITaskRunGrain>(run.RunId).CancelAsync(caller.Subject, "cancelled through the API", AuditFeature.Of(context)?.RequestId ?? string.Empty)));
        }
        catch (TaskRunStateException ex)
        {
            throw new ProblemException(StatusCodes.Status409Conflict, "task-ended", "Task already ended", ex.Message);
        }
    }

    public static async Task<Ok<TaskAttestationResponse>> AttestationAsync(string id, IClusterClient cluster, ClaimsPrincipal user)
    {
        var run = await OwnRunAsync(cluster, id, user);
        var attestation = await cluster.GetGrain<ITaskRunGrain>(run.RunId).GetAttestationAsync()
            ?? throw new ProblemException(StatusCodes.Status409Conflict, "not-dispatched", "Not dispatched yet", $"Task run '{run.RunId}' has not been dispatched to a device, so nothing was signed yet.");
        var keys = await cluster.GetGrain<ITaskKeyRingGrain>(ITaskKeyRingGrain.Key).ListAsync();
        var manifest = attestation.Manifest;
        return TypedResults.Ok(new TaskAttestationResponse(
            run.RunId, TaskSignatures.Algorithm, manifest.ManifestJson, TaskSignatures.Sha256Hex(manifest.ManifestJson), Convert.ToBase64String(manifest.Signature),
            Convert.ToBase64String(manifest.EphemeralPublicKey), manifest.Endorsement.KeyId, Convert.ToBase64String(manifest.Endorsement.Signature),
            attestation.Result?.ResultJson, attestation.Result is { } result ? Convert.ToBase64String(result.Signature) : null,
            attestation.DevicePublicKey is { } device ? Convert.ToBase64String(device) : null,
            keys.Select(TaskResponses.From).ToList()));
    }

    /// <summary>
    /// Server-sent events while the run is alive (each <c>log</c> event's id is the byte offset after it, so a client that
    /// reconnects with Last-Event-ID continues where it was), then an <c>end</c> event with the outcome; once the run has
    /// ended, the whole log as text unless events are asked for.
    /// </summary>
    public static async Task LogsAsync(string id, IClusterClient cluster, IArtifactStore artifacts, HttpContext context)
    {
        var run = await OwnRunAsync(cluster, id, context.User);
        var grain = cluster.GetGrain<ITaskRunGrain>(run.RunId);
        var wantsEvents = context.Request.Headers.Accept.Any(a => a?.Contains("text/event-stream", StringComparison.OrdinalIgnoreCase) == true);
        var response = context.Response;
        var aborted = context.RequestAborted;
        if (TaskRunStatuses.IsTerminal(run.Status) && !wantsEvents)
        {
            response.ContentType = "text/plain; charset=utf-8";
            if (run.LogDigest is { } digest)
            {
                response.ContentLength = run.LogBytes;
                await artifacts.CopyToAsync(digest, response.Body, aborted);
            }

            return;
        }

        long offset = 0;
        if (long.TryParse(context.Request.Headers["Last-Event-ID"], NumberStyles.None, CultureInfo.InvariantCulture, out var resume) && resume >= 0)
        {
            offset = resume;
        }

        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature>()?.DisableBuffering();
        context.Features.Get<Microsoft.AspNetCore.Http.Timeouts.IHttpRequestTimeoutFeature>()?.DisableTimeout();
        var decoder = Encoding.UTF8.GetDecoder();
        await response.WriteAsync(": following the log of " + run.RunId + "\n\n", aborted);
        await response.Body.FlushAsync(aborted);
        while (!aborted.IsCancellationRequested)
        {
            var chunk = await grain.ReadLogAsync(offset, 64 * 1024, TimeSpan.FromSeconds(15));
            if (chunk.Data.Length > 0)
            {
                offset = chunk.NextOffset;
                var text = DecodeChunk(decoder, chunk.Data);
                var builder = new StringBuilder();
                builder.Append("event: log\nid: ").Append(offset.ToString(CultureInfo.InvariantCulture)).Append('\n');
                foreach (var line in text.Split('\n'))
                {
                    builder.Append("data: ").Append(line.TrimEnd('\r')).Append('\n');
                }

                await response.WriteAsync(builder.Append('\n').ToString(), aborted);
            }
            else if (!chunk.Complete)
            {
                // A comment keeps proxies from closing an idle stream while the task thinks.
                await response.WriteAsync(": waiting\n\n", aborted);
            }

            await response.Body.FlushAsync(aborted);
            if (chunk.Complete || (TaskRunStatuses.IsTerminal(chunk.Status) && chunk.Data.Length == 0))
            {
                var ended = await grain.GetAsync();
                var end = JsonSerializer.Serialize(new
                {
                    status = TaskRunStatuses.Name(ended.Status),
                    exit_code = ended.ExitCode,
                    reason = ended.Reason,
                    log_digest = ended.LogDigest,
                    log_bytes = ended.LogBytes,
                });
                await response.WriteAsync($"event: end\ndata: {end}\n\n", aborted);
                await response.Body.FlushAsync(aborted);
                return;
            }
        }
    }

    /// <summary>The caller's tenant's run, or 404 for a run that does not exist or belongs to another tenant.</summary>
    public static async Task<TaskRunSnapshot> OwnRunAsync(IClusterClient cluster, string id, ClaimsPrincipal user) =>
        await FindRunAsync(cluster, id, CallerContext.From(user).Tenant)
            ?? throw new ProblemException(StatusCodes.Status404NotFound, "task-not-found", "Task not found", $"No task run '{id}' exists in this tenant.");

    /// <summary><paramref name="tenant"/>'s run <paramref name="id"/>, or null when there is none (or it is another tenant's).</summary>
    public static async Task<TaskRunSnapshot?> FindRunAsync(IClusterClient cluster, string id, string tenant)
    {
        var run = id.StartsWith("run_", StringComparison.Ordinal) && id.Length <= 64
            ? await cluster.GetGrain<ITaskRunGrain>(id).GetAsync()
            : null;
        return run is { Status: not TaskRunStatus.None, Spec: { } spec } && spec.Tenant == tenant ? run : null;
    }

    private static string DecodeChunk(Decoder decoder, byte[] data)
    {
        var chars = new char[decoder.GetCharCount(data, flush: false)];
        var count = decoder.GetChars(data, chars, flush: false);
        return new string(chars, 0, count);
    }
}
