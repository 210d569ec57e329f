namespace Outpost.Gateway.AuditLogs;

/// <summary>
/// What the gateway learns about a request while handling it, for its audit event: set by the audit middleware when
/// the request arrives and filled in by whoever decides something (a denial's rule, the model that served it).
/// </summary>
public sealed class AuditFeature(string requestId, DateTimeOffset arrivedAt)
{
    /// <summary>The request's random 128-bit id, as returned in <c>X-Request-Id</c>.</summary>
    public string RequestId { get; } = requestId;

    public DateTimeOffset ArrivedAt { get; } = arrivedAt;

    /// <summary>The rule that refused the request; null while nothing refused it.</summary>
    public string? DenialRule { get; private set; }

    /// <summary>Why the request was refused or failed, in words.</summary>
    public string? Reason { get; private set; }

    /// <summary>The model that served the request, when one did.</summary>
    public string? Model { get; set; }

    /// <summary>The tenant the request acted for when no token says so (e.g. a client authenticating at the token endpoint).</summary>
    public string? Tenant { get; set; }

    /// <summary>Who acted when no token says so.</summary>
    public string? Subject { get; set; }

    /// <summary>Scopes checked inside a handler (e.g. by <c>/v1/infer</c>'s task), beyond the endpoint's policy.</summary>
    public ISet<string> Scopes { get; } = new SortedSet<string>(StringComparer.Ordinal);

    /// <summary>
    /// How the request ended when it did not simply finish: <c>timeout</c> (over <c>Limits:RequestTimeout</c>),
    /// <c>client_closed</c> (the caller went away), <c>upstream_error</c> (the model failed mid-answer),
    /// <c>server_error</c>. Null lets the audit middleware derive it from the status.
    /// </summary>
    public string? Outcome { get; set; }

    /// <summary>What the request was charged, once its spend is settled (a stream's charge comes after its headers).</summary>
    public long? CostMicros { get; set; }

    /// <summary>Whether the tenant stores bodies; decided once the caller is known.</summary>
    public bool StoreBodies { get; set; }

    /// <summary>The feature of <paramref name="context"/>, or null for requests that are not audited.</summary>
    public static AuditFeature? Of(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Features.Get<AuditFeature>();
    }

    /// <summary>Whether a response with <paramref name="status"/> is a refusal by a rule (identity, scope, budget, rate, size).</summary>
    public static bool IsDenial(int status) => status is StatusCodes.Status401Unauthorized or StatusCodes.Status402PaymentRequired
        or StatusCodes.Status403Forbidden or StatusCodes.Status413PayloadTooLarge or StatusCodes.Status429TooManyRequests;

    /// <summary>Records that <paramref name="rule"/> refused the request; the first refusal wins.</summary>
    public void Deny(string rule, string reason)
    {
        DenialRule ??= rule;
        Reason ??= reason;
    }

    /// <summary>Records why the request failed, when nothing said so before.</summary>
    public void Explain(string reason) => Reason ??= reason;
}
