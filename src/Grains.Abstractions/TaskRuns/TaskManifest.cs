namespace Outpost.Grains.TaskRuns;

/// <summary>
/// What a device is told to run, exactly: signed by the run's ephemeral key and carried as the JSON bytes that were
/// signed (<see cref="SignedManifest.ManifestJson"/>), so that nobody re-encodes it between signer and verifier.
/// </summary>
/// <param name="Version">The manifest format, <see cref="CurrentVersion"/>.</param>
/// <param name="RunId">The run it belongs to; a device runs a run id once.</param>
/// <param name="Tenant">The tenant that owns the run.</param>
/// <param name="Device">The only device that may run it.</param>
/// <param name="Attempt">1 for the first dispatch; higher when a retry-safe run is started again elsewhere.</param>
/// <param name="Kind">The kind of task.</param>
/// <param name="Argv">The program and its arguments.</param>
/// <param name="Environment">Environment variables (from the allow-list) set in the sandbox.</param>
/// <param name="Inputs">Input artifacts by digest and where each is mounted in the work directory.</param>
/// <param name="Outputs">Files to return.</param>
/// <param name="WorkDirectory">Where the work directory appears inside the sandbox.</param>
/// <param name="Limits">Wall and CPU time, memory, process, output, file size and open-file caps.</param>
/// <param name="Network">The network policy (<c>none</c>).</param>
/// <param name="IssuedAt">When it was signed.</param>
/// <param name="ExpiresAt">After this a device refuses to start it.</param>
[GenerateSerializer, Immutable, Alias("outpost.TaskManifest")]
public sealed record TaskManifest(
    [property: Id(0)] int Version,
    [property: Id(1)] string RunId,
    [property: Id(2)] string Tenant,
    [property: Id(3)] string Device,
    [property: Id(4)] int Attempt,
    [property: Id(5)] string Kind,
    [property: Id(6)] IReadOnlyList<string> Argv,
    [property: Id(7)] IReadOnlyDictionary<string, string> Environment,
    [property: Id(8)] IReadOnlyList<TaskInput> Inputs,
    [property: Id(9)] IReadOnlyList<string> Outputs,
    [property: Id(10)] string WorkDirectory,
    [property: Id(11)] TaskLimits Limits,
    [property: Id(12)] string Network,
    [property: Id(13)] DateTimeOffset IssuedAt,
    [property: Id(14)] DateTimeOffset ExpiresAt)
{
    /// <summary>The manifest format this build writes and accepts.</summary>
    public const int CurrentVersion = 1;

    /// <summary>Where a manifest's work directory appears inside the sandbox.</summary>
    public const string SandboxWorkDirectory = "/tmp/work";
}
