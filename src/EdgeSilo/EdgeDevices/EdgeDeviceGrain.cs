using System.Runtime.CompilerServices;
using System.Text;
using Outpost.EdgeSilo.Inference;
using Outpost.EdgeSilo.Tasks;
using Outpost.Grains;
using Outpost.Grains.EdgeDevices;
using Outpost.Grains.Inference;
using Outpost.Grains.Placement;
using Outpost.Grains.TaskRuns;

namespace Outpost.EdgeSilo.EdgeDevices;

/// <summary>
/// The device itself, living on the device's own silo. It owns the device's inference queues: every request for this
/// hardware comes through here. Its registration is durable; its heartbeat (with its load) is forwarded to the control
/// plane's directory, which owns the "last seen" record.
/// </summary>
[DevicePlacement]
[GrainType(IEdgeDeviceGrain.GrainTypeName)]
public sealed class EdgeDeviceGrain(
    [PersistentState(EdgeStateNames.Device, StorageNames.Default)] IPersistentState<EdgeDeviceState> state,
    DeviceInference inference,
    TaskExecutor executor,
    ManifestVerifier verifier,
    ILocalSiloDetails silo,
    TimeProvider time) : Grain, IEdgeDeviceGrain
{
    private DateTimeOffset _lastHeartbeat;

    private string DeviceId => this.GetPrimaryKeyString();

    public async Task<DeviceRecord> RegisterAsync(DeviceRegistration registration)
    {
        ArgumentNullException.ThrowIfNull(registration);
        if (!string.Equals(registration.DeviceId, DeviceId, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Registration for device '{registration.DeviceId}' was sent to device '{DeviceId}'.", nameof(registration));
        }

        var now = time.GetUtcNow();
        state.State.Registration = registration;
        state.State.RegisteredAt = now;
        await state.WriteStateAsync();
        _lastHeartbeat = now;
        return await ReportAsync();
    }

    public async Task<DeviceRecord> HeartbeatAsync()
    {
        _ = state.State.Registration ?? throw new InvalidOperationException($"Device '{DeviceId}' has not registered.");
        _lastHeartbeat = time.GetUtcNow();
        return await ReportAsync();
    }

    public Task<DeviceRecord?> GetRecordAsync() =>
        Task.FromResult(state.State.Registration is null ? null : CurrentRecord());

    public async Task<EmbeddingResult> EmbedAsync(EmbeddingRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var queue = inference.FindEmbedding(request.Model)
            ?? throw Rejected(InferenceRejection.UnknownModel, $"Device '{DeviceId}' does not serve embedding model '{request.Model}'.");
        if (request.Inputs.Count == 0)
        {
            throw Rejected(InferenceRejection.InvalidInput, "input must contain at least one text.");
        }

        var backend = queue.Backend;
        var tokens = new int[request.Inputs.Count];
        for (var i = 0; i < request.Inputs.Count; i++)
        {
            var text = request.Inputs[i];
            if (string.IsNullOrEmpty(text))
            {
                throw Rejected(InferenceRejection.InvalidInput, $"input[{i}] is empty.");
            }

            var count = backend.CountTokens(text);
            if (count > backend.MaxInputTokens && !request.Truncate)
            {
                throw Rejected(
                    InferenceRejection.InputTooLong,
                    $"input[{i}] is {count} tokens; {backend.Model} reads at most {backend.MaxInputTokens} tokens per input.");
            }

            tokens[i] = Math.Min(count, backend.MaxInputTokens);
        }

        var vectors = await queue.EnqueueAsync(request.Tenant ?? string.Empty, request.Inputs, cancellationToken);
        return new EmbeddingResult(vectors, tokens.Sum(), DeviceId, tokens);
    }

    public async Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default)
    {
        var text = new StringBuilder();
        GenerationChunk? last = null;
        await foreach (var chunk in GenerateStreamAsync(request, cancellationToken))
        {
            text.Append(chunk.Text);
            last = chunk;
        }

        return new GenerationResult(text.ToString(), last?.PromptTokens ?? 0, last?.CompletionTokens ?? 0, last?.StopReason ?? "end_turn", DeviceId);
    }

    public async IAsyncEnumerable<GenerationChunk> GenerateStreamAsync(
        GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var queue = inference.FindGeneration(request.Model)
            ?? throw Rejected(InferenceRejection.UnknownModel, $"Device '{DeviceId}' does not serve generation model '{request.Model}'.");
        if (request.Messages.Count == 0)
        {
            throw Rejected(InferenceRejection.InvalidInput, "messages must contain at least one message.");
        }

        if (request.MaxTokens < 1)
        {
            throw Rejected(InferenceRejection.InvalidInput, "max_tokens must be at least 1.");
        }

        await foreach (var chunk in queue.RunAsync(request, cancellationToken))
        {
            yield return chunk;
        }
    }

    public Task<DeviceLoad> GetLoadAsync() => Task.FromResult(CurrentLoad());

    public async Task StartTaskAsync(SignedManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var (verified, refusal) = executor.IsAvailable
            ? await verifier.VerifyAsync(manifest)
            : (null, "this device does not execute tasks (disabled, or its sandbox does not work here)");
        var now = time.GetUtcNow();
        if (verified is not null)
        {
            foreach (var expired in state.State.AcceptedRuns.Where(run => run.Value < now - TimeSpan.FromMinutes(5)).Select(run => run.Key).ToList())
            {
                // An expired manifest is refused for its expiry anyway, so its run id need not be remembered.
                state.State.AcceptedRuns.Remove(expired);
            }

            // A signed manifest runs once: its run id and attempt are both under the signature, so a replay is refused,
            // while the control plane may send a new attempt when it could not tell whether its first dispatch arrived.
            if (state.State.AcceptedRuns.ContainsKey(ReplayKey(verified)))
            {
                refusal = $"run '{verified.RunId}' (attempt {verified.Attempt}) was already accepted by this device; a manifest runs once";
                verified = null;
            }
        }

        if (verified is null)
        {
            // Tell the control plane so the refusal is audited; the run id is the manifest's claim, unverified, and
            // names the log the refusal goes to (a run that does not exist goes to the system tenant's).
            var runId = ClaimedRunId(manifest.ManifestJson);
            executor.ReportRefusal(runId, refusal!);
            throw new TaskRefusedException(refusal!);
        }

        state.State.AcceptedRuns[ReplayKey(verified)] = verified.ExpiresAt;
        await state.WriteStateAsync();
        executor.Enqueue(verified, TaskSignatures.Sha256Hex(manifest.ManifestJson));
    }

    public Task CancelTaskAsync(string runId)
    {
        executor.Cancel(runId);
        return Task.CompletedTask;
    }

    private static string ReplayKey(TaskManifest manifest) => $"{manifest.RunId}#{manifest.Attempt}";

    private static string ClaimedRunId(string? manifestJson)
    {
        try
        {
            var claimed = manifestJson is null ? null : System.Text.Json.JsonSerializer.Deserialize<TaskManifest>(manifestJson, TaskSignatures.Json)?.RunId;
            return string.IsNullOrEmpty(claimed) || claimed.Length > 128 ? "unknown" : claimed;
        }
        catch (System.Text.Json.JsonException)
        {
            return "unknown";
        }
    }

    private DeviceLoad CurrentLoad() => inference.Load with { TasksRunning = executor.Running, TasksQueued = executor.Queued };

    private static InferenceRejectedException Rejected(InferenceRejection reason, string message) => new(reason, message);

    private async Task<DeviceRecord> ReportAsync()
    {
        var record = CurrentRecord();
        await GrainFactory.GetGrain<IDeviceDirectoryGrain>(IDeviceDirectoryGrain.Key).ReportAsync(record);
        return record;
    }

    private DeviceRecord CurrentRecord() =>
        new(state.State.Registration!, silo.SiloAddress, state.State.RegisteredAt, _lastHeartbeat == default ? state.State.RegisteredAt : _lastHeartbeat, CurrentLoad());
}
