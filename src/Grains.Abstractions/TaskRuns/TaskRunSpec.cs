namespace Outpost.Grains.TaskRuns;

/// <summary>What a task run is asked to do.</summary>
/// <param name="Tenant">The tenant that owns the run.</param>
/// <param name="RequestedBy">The subject who asked for it.</param>
/// <param name="Manifest">The name of the task manifest to run, e.g. <c>dotnet-test</c>.</param>
/// <param name="DeviceId">The device to run it on, or null to let the router choose.</param>
/// <param name="RequiresApproval">Whether a human must approve it before it runs.</param>
[GenerateSerializer, Immutable, Alias("outpost.TaskRunSpec")]
public sealed record TaskRunSpec(
    [property: Id(0)] string Tenant,
    [property: Id(1)] string RequestedBy,
    [property: Id(2)] string Manifest,
    [property: Id(3)] string? DeviceId,
    [property: Id(4)] bool RequiresApproval);
