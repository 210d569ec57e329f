using System.Diagnostics;
using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authorization;
using Outpost.Gateway.Diagnostics;
using Outpost.Gateway.Errors;
using Outpost.Gateway.Routing;
using Outpost.Gateway.Spending;
using Outpost.Grains.AuditLogs;
using Outpost.Identity;

namespace Outpost.Gateway.AuditLogs;

/// <summary>
/// Writes one audit event for every request and holds its response until the event is durable. It is the outermost
/// middleware, so it sees the final status of every request, refusals and errors included. It gives each request a
/// random 128-bit id (<c>X-Request-Id</c>, also the trace identifier), hashes both bodies as they pass, and after the
/// endpoint has run sends the event to the tenant's AuditLog grain. When the event cannot be made durable, the
/// response it describes is not sent: the caller gets 503 instead (or, for a stream already under way, a broken
/// connection).
/// </summary>
internal sealed partial class AuditMiddleware(
    RequestDelegate next,
    AuditWriter writer,
    DeviceCatalog devices,
    IProblemDetailsService problems,
    TimeProvider time,
    ILogger<AuditMiddleware> logger)
{
    /// <summary>The response header carrying the request id.</summary>
    public const string RequestIdHeader = "X-Request-Id";

    /// <summary>The audit log of requests whose caller could not be identified.</summary>
    public const string UnauthenticatedTenant = Outpost.AuditLog.Storage.AuditSettings.UnauthenticatedTenant;

    public async Task InvokeAsync(HttpContext context)
    {
        if (!IsAudited(context.Request.Path))
        {
            await next(context);
            return;
        }

        var requestId = RandomNumberGenerator.GetHexString(32, lowercase: true);
        context.TraceIdentifier = requestId;
        var feature = new AuditFeature(requestId, time.GetUtcNow());
        context.Features.Set(feature);
        context.Response.OnStarting(static state =>
        {
            var (http, id) = ((HttpContext, string))state;
            http.Response.Headers[RequestIdHeader] = id;
            return Task.CompletedTask;
        }, (context, requestId));

        var originalRequest = context.Request.Body;
        var originalResponse = context.Response.Body;
        using var requestBody = new HashingRequestStream(originalRequest, feature);
        using var responseBody = new AuditedResponseStream(originalResponse, context.Response, feature);
        context.Request.Body = requestBody;
        context.Response.Body = responseBody;
        // The connection's own token: the request timeout middleware links its own into RequestAborted further in.
        var connectionClosed = context.RequestAborted;
        try
        {
            try
            {
                await next(context);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException && !context.Response.HasStarted && !responseBody.Streaming)
            {
                // Only reached when an error escapes the exception handler: audit it as the 500 the server will send.
                feature.Explain("unhandled error");
                context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                await AuditAndReleaseAsync(context, feature, requestBody, responseBody, originalResponse, CancellationToken.None);
                throw;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // A response already under way was cut: by the request timeout, by the caller, or by a failure. It is
                // audited all the same, with what was sent and how it ended.
                feature.Outcome ??= connectionClosed.IsCancellationRequested ? "client_closed"
                    : ex is OperationCanceledException ? "timeout"
                    : "server_error";
                feature.Explain(feature.Outcome == "timeout" ? "the response outlived Limits:RequestTimeout" : ex.GetType().Name);
                if (feature.Outcome == "timeout" && context.Response.ContentType?.StartsWith("text/event-stream", StringComparison.Ordinal) == true)
                {
                    await WriteTimeoutEventAsync(context);
                }

                await AuditAndReleaseAsync(context, feature, requestBody, responseBody, originalResponse, CancellationToken.None);
                if (feature.Outcome == "server_error")
                {
                    throw;
                }

                // Timed out or abandoned: the stream simply ends (a caller still listening sees it close).
                return;
            }

            await AuditAndReleaseAsync(context, feature, requestBody, responseBody, originalResponse, context.RequestAborted);
        }
        finally
        {
            context.Request.Body = originalRequest;
            context.Response.Body = originalResponse;
        }
    }

    // A stream's last event when it is cut by the timeout, in the error-event shape the Messages API uses; it is part of
    // what was sent, so it is hashed like the rest.
    private static async Task WriteTimeoutEventAsync(HttpContext context)
    {
        try
        {
            await context.Response.WriteAsync(
                "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"timeout_error\",\"message\":\"The response outlived the gateway's request timeout (Limits:RequestTimeout) and was ended.\"}}\n\n",
                CancellationToken.None);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            // The caller left at the same moment.
        }
    }

    private static bool IsAudited(PathString path) =>
        !path.StartsWithSegments("/healthz") && !path.StartsWithSegments("/readyz") && !path.StartsWithSegments("/.well-known");

    private async Task AuditAndReleaseAsync(
        HttpContext context,
        AuditFeature feature,
        HashingRequestStream requestBody,
        AuditedResponseStream responseBody,
        Stream originalResponse,
        CancellationToken cancellationToken)
    {
        // A refused request's body is not read on: the digest covers what the gateway read before refusing it.
        var refused = feature.DenialRule is not null || AuditFeature.IsDenial(context.Response.StatusCode);
        var (requestDigest, requestCopy) = await requestBody.FinishAsync(drain: !refused && !cancellationToken.IsCancellationRequested, cancellationToken);
        var (responseDigest, responseCopy) = responseBody.Finish();
        var (tenant, auditEvent) = Describe(context, feature, requestDigest, responseDigest, requestCopy, responseCopy);
        var writing = Stopwatch.GetTimestamp();
        try
        {
            await writer.AppendAsync(tenant, auditEvent);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogAuditUnavailable(logger, ex, feature.RequestId, tenant);
            if (responseBody.Streaming || context.Response.HasStarted)
            {
                // The stream is out; ending it cleanly would claim a complete, recorded response.
                context.Abort();
                return;
            }

            // Clear empties the held body too: the stream is seekable while it holds one.
            context.Response.Clear();
            context.Response.Body = originalResponse;
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.RetryAfter = "5";
            await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails =
                {
                    Status = StatusCodes.Status503ServiceUnavailable,
                    Type = Problems.TypeBase + "audit-unavailable",
                    Title = "Audit log unavailable",
                    Detail = "The request could not be recorded in the audit log, so its response is withheld; retry shortly.",
                },
            });
            return;
        }

        // What the audit write added to this request, for operators and benchmarks.
        ServerTiming.Add(context, "audit", Stopwatch.GetElapsedTime(writing));

        try
        {
            await responseBody.ReleaseAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException && cancellationToken == CancellationToken.None)
        {
            // The caller is gone; the event is written, there is nobody left to send the rest to.
        }
    }

    private (string Tenant, AuditEvent Event) Describe(
        HttpContext context, AuditFeature feature, byte[] requestDigest, byte[] responseDigest, byte[]? requestCopy, byte[]? responseCopy)
    {
        var user = context.User;
        var actor = Outpost.Identity.Endpoints.OAuthActor.Of(context);
        var tenant = user.FindFirstValue(OutpostClaims.Tenant) ?? actor?.Tenant ?? feature.Tenant ?? UnauthenticatedTenant;
        var source = context.Connection.RemoteIpAddress?.ToString() ?? "";
        var client = user.FindFirstValue(OutpostClaims.ClientId) ?? actor?.ClientId ?? "";
        var subject = user.FindFirstValue(OutpostClaims.Subject) ?? actor?.Subject ?? (client.Length > 0 ? client : null) ?? feature.Subject ?? source;

        var endpoint = context.GetEndpoint();
        var route = (endpoint as RouteEndpoint)?.RoutePattern.RawText ?? context.Request.Path.Value ?? "/";
        route = "/" + route.Trim('/');
        var action = $"{context.Request.Method} {route}";
        var scopes = new SortedSet<string>(feature.Scopes, StringComparer.Ordinal);
        foreach (var data in endpoint?.Metadata.GetOrderedMetadata<IAuthorizeData>() ?? [])
        {
            if (data.Policy is { } policy && Scopes.All.Contains(policy))
            {
                scopes.Add(policy);
            }
        }

        var scopeText = string.Join(' ', scopes);
        var status = context.Response.StatusCode;
        string decision, rule;
        if (feature.DenialRule is { } denial)
        {
            (decision, rule) = (AuditEvent.Denied, denial);
        }
        else if (AuditFeature.IsDenial(status))
        {
            (decision, rule) = (AuditEvent.Denied, DefaultDenialRule(status));
        }
        else
        {
            (decision, rule) = (AuditEvent.Allowed, scopes.Count > 0 ? "scope:" + scopeText : endpoint is null ? "no_route" : "public");
        }

        var headers = context.Response.Headers;
        string? target = headers[SpendGuard.TargetHeader].ToString() is { Length: > 0 } t ? t : null;
        var device = headers[Endpoints.EmbeddingsEndpoints.DeviceHeader].ToString() is { Length: > 0 } d && d != "cache" ? d : "";
        if (device.Length == 0 && target is not null && target.StartsWith("edge:", StringComparison.Ordinal))
        {
            device = target["edge:".Length..];
        }

        target ??= device.Length > 0 ? "edge:" + device : null;
        var silo = device.Length == 0 ? "" : devices.Devices.FirstOrDefault(s => s.Record.Registration.DeviceId == device)?.Record.Silo.ToString() ?? "";
        _ = long.TryParse(headers[SpendGuard.CostHeader].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var headerCost);
        var cost = feature.CostMicros ?? headerCost;
        var outcome = feature.Outcome
            ?? (context.RequestAborted.IsCancellationRequested ? "client_closed"
            : status == StatusCodes.Status504GatewayTimeout ? "timeout"
            : status >= 500 ? "server_error"
            : status >= 400 ? "client_error"
            : "ok");

        return (tenant, new AuditEvent(
            Time: feature.ArrivedAt,
            Subject: subject,
            Action: action,
            Decision: decision,
            Target: target,
            RequestId: feature.RequestId,
            ClientId: client,
            SourceAddress: source,
            Scopes: scopeText,
            Rule: rule,
            Reason: feature.Reason ?? "",
            Device: device,
            Silo: silo,
            Model: feature.Model ?? "",
            CostMicros: cost,
            Status: status,
            Outcome: outcome,
            RequestSha256: requestDigest,
            ResponseSha256: responseDigest,
            RequestBody: feature.StoreBodies ? requestCopy ?? [] : null,
            ResponseBody: feature.StoreBodies ? responseCopy ?? [] : null));
    }

    // For a refusal whose writer named no rule.
    private static string DefaultDenialRule(int status) => status switch
    {
        StatusCodes.Status401Unauthorized => "unauthenticated",
        StatusCodes.Status402PaymentRequired => "budget",
        StatusCodes.Status413PayloadTooLarge => "body_too_large",
        StatusCodes.Status429TooManyRequests => "rate_limited",
        _ => "forbidden",
    };

    [LoggerMessage(EventId = 62, EventName = "AuditUnavailable", Level = LogLevel.Error,
        Message = "Request {RequestId} of tenant {TenantId} could not be audited; its response was withheld")]
    private static partial void LogAuditUnavailable(ILogger logger, Exception exception, string requestId, string tenantId);
}
