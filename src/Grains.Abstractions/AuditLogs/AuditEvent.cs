namespace Outpost.Grains.AuditLogs;

/// <summary>One thing that happened: who asked for what, what was decided, and where it ran.</summary>
/// <param name="Time">When the event happened.</param>
/// <param name="Subject">Who asked: the user or client identity.</param>
/// <param name="Action">What was asked for, e.g. <c>embeddings.create</c>.</param>
/// <param name="Decision">The outcome of the policy check, e.g. <c>allowed</c> or <c>denied:insufficient_scope</c>.</param>
/// <param name="Target">Where the work ran (device, silo or cloud model), when it ran.</param>
/// <param name="RequestId">The request's id, as returned to the client.</param>
[GenerateSerializer, Immutable, Alias("outpost.AuditEvent")]
public sealed record AuditEvent(
    [property: Id(0)] DateTimeOffset Time,
    [property: Id(1)] string Subject,
    [property: Id(2)] string Action,
    [property: Id(3)] string Decision,
    [property: Id(4)] string? Target,
    [property: Id(5)] string RequestId);
