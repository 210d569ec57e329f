using Orleans.Concurrency;
using Outpost.Grains.Inference;
using Outpost.Grains.TaskRuns;

namespace Outpost.Grains.EdgeDevices;

/// <summary>
/// One edge device. Keyed by device id and placed on the silo of that device, so its work runs on the device's own
/// hardware; it owns the device's inference queue and sandbox.
/// </summary>
[Alias("outpost.IEdgeDeviceGrain")]
public interface IEdgeDeviceGrain : IGrainWithStringKey
{
    /// <summary>
    /// The grain type of the device grain (its class carries <c>[GrainType(GrainTypeName)]</c>): how a control silo tells
    /// that a call comes from a device.
    /// </summary>
    const string GrainTypeName = "edgedevice";

    /// <summary>Records what the device is and can do, and announces it to the directory.</summary>
    [Alias("RegisterAsync")]
    Task<DeviceRecord> RegisterAsync(DeviceRegistration registration);

    /// <summary>Tells the directory the device is alive.</summary>
    [Alias("HeartbeatAsync")]
    Task<DeviceRecord> HeartbeatAsync();

    /// <summary>The device's current record, or null before it has registered.</summary>
    [Alias("GetRecordAsync")]
    Task<DeviceRecord?> GetRecordAsync();

    /// <summary>
    /// Embeds texts on this device's embedding model through its batching queue. Refuses with
    /// <see cref="InferenceRejectedException"/> when the queue is full, the model is not served here or an input is
    /// unusable, before any work is done.
    /// </summary>
    [Alias("EmbedAsync"), AlwaysInterleave]
    Task<EmbeddingResult> EmbedAsync(EmbeddingRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs a completion on this device's LLM backend, one at a time, and returns it whole. A whole generation, after the
    /// ones queued before it, can outlast the cluster's response timeout, so this call has its own ceiling; the caller's
    /// cancellation (the gateway's request timeout) ends it sooner.
    /// </summary>
    [Alias("GenerateAsync"), AlwaysInterleave, ResponseTimeout("00:30:00")]
    Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default);

    /// <summary>Runs a completion on this device's LLM backend, one at a time, streaming it as it is written.</summary>
    [Alias("GenerateStreamAsync"), AlwaysInterleave]
    IAsyncEnumerable<GenerationChunk> GenerateStreamAsync(GenerationRequest request, CancellationToken cancellationToken = default);

    /// <summary>How busy the device is now.</summary>
    [Alias("GetLoadAsync"), AlwaysInterleave]
    Task<DeviceLoad> GetLoadAsync();

    /// <summary>
    /// Verifies a signed manifest (endorsement, signature, expiry, this device, a run id never run here) and queues it
    /// for the sandbox; refuses with <see cref="TaskRefusedException"/> otherwise, after reporting the refusal.
    /// </summary>
    [Alias("StartTaskAsync")]
    Task StartTaskAsync(SignedManifest manifest);

    /// <summary>Stops a run queued or running here: its whole process tree is killed.</summary>
    [Alias("CancelTaskAsync"), AlwaysInterleave]
    Task CancelTaskAsync(string runId);
}
