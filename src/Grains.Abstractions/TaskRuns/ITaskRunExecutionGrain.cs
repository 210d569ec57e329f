using Orleans.Concurrency;

namespace Outpost.Grains.TaskRuns;

/// <summary>
/// The device's side of a run (the same grain as <see cref="ITaskRunGrain"/>): each call names the calling device,
/// which must be the one the run was dispatched to, and the edge call filter lets a device name only itself.
/// </summary>
[Alias("outpost.ITaskRunExecutionGrain")]
public interface ITaskRunExecutionGrain : IGrainWithStringKey
{
    /// <summary>Reads up to <paramref name="count"/> bytes of an input artifact the manifest names.</summary>
    [Alias("ReadInputAsync"), AlwaysInterleave]
    Task<byte[]> ReadInputAsync(string device, string digest, long offset, int count);

    /// <summary>The sandbox started.</summary>
    [Alias("ReportStartedAsync")]
    Task ReportStartedAsync(string device, DateTimeOffset startedAt, string manifestSha256);

    /// <summary>Appends log bytes written at <paramref name="offset"/>; returns the offset the grain expects next (resend from there), or -1 when the run has ended and wants no more.</summary>
    [Alias("AppendLogAsync")]
    Task<long> AppendLogAsync(string device, long offset, byte[] data);

    /// <summary>Appends bytes of output file <paramref name="index"/> (in the manifest's order) at <paramref name="offset"/>; returns the offset expected next.</summary>
    [Alias("WriteOutputAsync")]
    Task<long> WriteOutputAsync(string device, int index, long offset, byte[] data);

    /// <summary>Delivers the signed result; the grain verifies it against the device's key and its own copy of log and outputs.</summary>
    [Alias("CompleteAsync")]
    Task<TaskRunStatus> CompleteAsync(string device, SignedTaskResult result);

    /// <summary>The device refused the manifest dispatched to it; the refusal is audited.</summary>
    [Alias("ReportRefusedAsync")]
    Task ReportRefusedAsync(string device, string reason);
}
