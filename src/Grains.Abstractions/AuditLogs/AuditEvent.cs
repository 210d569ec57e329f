namespace Outpost.Grains.AuditLogs;

/// <summary>
/// One request or decision, as the gateway saw it: who asked for what, from where, what was decided by which rule, where
/// the work ran, what it cost and how it ended. Bodies are represented by their SHA-256 digests; the bodies themselves
/// travel only for tenants that store them.
/// </summary>
/// <param name="Time">When the request arrived (UTC; stored to the microsecond).</param>
/// <param name="Subject">Who asked: the user or client identity, or the source address when nobody was identified.</param>
/// <param name="Action">What was asked for: the method and route, e.g. <c>POST /v1/embeddings</c>.</param>
/// <param name="Decision"><c>allowed</c> or <c>denied</c>.</param>
/// <param name="Target">Where the work ran: <c>edge:&lt;device&gt;</c>, <c>cloud:&lt;model&gt;</c>, or null.</param>
/// <param name="RequestId">The random 128-bit request id (32 hex digits) returned in <c>X-Request-Id</c>; unique.</param>
/// <param name="ClientId">The OAuth client the token was issued to.</param>
/// <param name="SourceAddress">The caller's IP address.</param>
/// <param name="Scopes">The scopes the request used (space-separated): those its endpoint required.</param>
/// <param name="Rule">What decided: e.g. <c>scope:embed:create</c>, <c>insufficient_scope</c>, <c>rate_limited</c>.</param>
/// <param name="Reason">Why, in words, for denials and failures.</param>
/// <param name="Device">The edge device that served the request.</param>
/// <param name="Silo">The silo that hosts that device.</param>
/// <param name="Model">The model that served it (edge or cloud).</param>
/// <param name="CostMicros">What was charged, in micro-dollars.</param>
/// <param name="Status">The HTTP status of the response.</param>
/// <param name="Outcome"><c>ok</c>, <c>client_error</c>, <c>server_error</c> or <c>aborted</c>.</param>
/// <param name="RequestSha256">SHA-256 of the request body (of nothing when there was none).</param>
/// <param name="ResponseSha256">SHA-256 of the response body as sent.</param>
/// <param name="RequestBody">The request body, only when the tenant stores bodies.</param>
/// <param name="ResponseBody">The response body, only when the tenant stores bodies.</param>
[GenerateSerializer, Immutable, Alias("outpost.AuditEvent")]
public sealed record AuditEvent(
    [property: Id(0)] DateTimeOffset Time,
    [property: Id(1)] string Subject,
    [property: Id(2)] string Action,
    [property: Id(3)] string Decision,
    [property: Id(4)] string? Target,
    [property: Id(5)] string RequestId,
    [property: Id(6)] string ClientId = "",
    [property: Id(7)] string SourceAddress = "",
    [property: Id(8)] string Scopes = "",
    [property: Id(9)] string Rule = "",
    [property: Id(10)] string Reason = "",
    [property: Id(11)] string Device = "",
    [property: Id(12)] string Silo = "",
    [property: Id(13)] string Model = "",
    [property: Id(14)] long CostMicros = 0,
    [property: Id(15)] int Status = 0,
    [property: Id(16)] string Outcome = "",
    [property: Id(17)] byte[]? RequestSha256 = null,
    [property: Id(18)] byte[]? ResponseSha256 = null,
    [property: Id(19)] byte[]? RequestBody = null,
    [property: Id(20)] byte[]? ResponseBody = null)
{
    /// <summary>The decision for a request that passed every check.</summary>
    public const string Allowed = "allowed";

    /// <summary>The decision for a request a rule refused.</summary>
    public const string Denied = "denied";
}
