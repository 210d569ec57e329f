namespace Outpost.Grains.TaskRuns;

/// <summary>What a task run is asked to do, as the gateway accepted it after validation and policy.</summary>
/// <param name="Tenant">The tenant that owns the run.</param>
/// <param name="RequestedBy">The subject who asked for it.</param>
/// <param name="ClientId">The OAuth client it came through.</param>
/// <param name="Kind">The kind of task, e.g. <c>unit-test</c>; policy is written against it.</param>
/// <param name="Argv">The program and its arguments: a list, never a shell string.</param>
/// <param name="Environment">Environment variables passed in (names from the allow-list only).</param>
/// <param name="Inputs">The input artifacts and where each goes.</param>
/// <param name="Outputs">Relative paths of files to return as artifacts when the run ends (e.g. <c>report.xml</c>).</param>
/// <param name="Limits">The caps it runs under.</param>
/// <param name="Network">The network policy: <c>none</c> (the only one a device enforces today).</param>
/// <param name="Candidates">The devices it may run on (the tenant's and shared ones that execute tasks), in the router's order.</param>
/// <param name="Approval">Who must approve it first.</param>
/// <param name="PolicyRule">The policy rule that decided <paramref name="Approval"/>.</param>
/// <param name="ApprovalTimeout">How long an approval may take before the run expires.</param>
/// <param name="RetrySafe">True when the run may be started again on another device if its device is lost.</param>
[GenerateSerializer, Immutable, Alias("outpost.TaskRunSpec")]
public sealed record TaskRunSpec(
    [property: Id(0)] string Tenant,
    [property: Id(1)] string RequestedBy,
    [property: Id(2)] string ClientId,
    [property: Id(3)] string Kind,
    [property: Id(4)] IReadOnlyList<string> Argv,
    [property: Id(5)] IReadOnlyDictionary<string, string> Environment,
    [property: Id(6)] IReadOnlyList<TaskInput> Inputs,
    [property: Id(7)] IReadOnlyList<string> Outputs,
    [property: Id(8)] TaskLimits Limits,
    [property: Id(9)] string Network,
    [property: Id(10)] IReadOnlyList<string> Candidates,
    [property: Id(11)] TaskApproval Approval,
    [property: Id(12)] string PolicyRule,
    [property: Id(13)] TimeSpan ApprovalTimeout,
    [property: Id(14)] bool RetrySafe)
{
    /// <summary>The only network policy devices enforce today: no network at all.</summary>
    public const string NoNetwork = "none";
}
