namespace Outpost.Gateway.Contracts;

/// <summary>
/// <c>POST /v1/tasks</c>: what to run (<c>argv</c>, a list, never a shell string), with which inputs (artifacts by
/// digest), which files to return, under which caps, and optionally on which device or on a device with which capabilities.
/// </summary>
public sealed record SubmitTaskRequest(
    string? Kind,
    IReadOnlyList<string>? Argv,
    IReadOnlyDictionary<string, string>? Env,
    IReadOnlyList<TaskInputRequest>? Inputs,
    IReadOnlyList<string>? Outputs,
    TaskLimitsRequest? Limits,
    string? Device,
    IReadOnlyList<string>? RequiredCapabilities,
    string? Network,
    bool? RetrySafe);
