using System.Buffers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Outpost.Execution.Artifacts;
using Outpost.Execution.Runs;
using Outpost.Execution.Signing;
using Outpost.Grains.AuditLogs;
using Outpost.Grains.EdgeDevices;
using Outpost.Grains.Placement;

namespace Outpost.Grains.TaskRuns;

/// <summary>
/// One remote execution. Every transition is checked against the current status, persisted, written to the run index
/// and audited in the tenant's log. While a run is alive a timer (and, across control-silo restarts, a reminder) checks
/// its approval and queue deadlines, its device's membership and its wall limit, so that no run waits forever.
/// The log and outputs a device streams in are held in memory while the run lives (bounded by the manifest's caps); a
/// device resends from the offset the grain answers, so a reactivated grain loses nothing. The result is trusted only
/// after its signature verifies with the device key pinned for the device and its digests match what arrived.
/// </summary>
[ControlPlane]
public sealed partial class TaskRunGrain(
    [PersistentState(StateNames.TaskRun, StorageNames.Default)] IPersistentState<TaskRunState> state,
    IArtifactStore artifacts,
    TaskKeyRing keys,
    TaskRunIndex index,
    TaskLogStore logs,
    IOptions<TaskRunOptions> options,
    TimeProvider time,
    ILogger<TaskRunGrain> logger) : Grain, ITaskRunGrain, ITaskRunExecutionGrain, IRemindable
{
    /// <summary>The tenant whose log records refusals of manifests for runs that do not exist (forgeries).</summary>
    public const string SystemTenant = "system";

    private const string MonitorReminder = "monitor";

    private ArrayBufferWriter<byte> _log = new();
    private readonly Dictionary<int, ArrayBufferWriter<byte>> _outputs = [];
    private TaskCompletionSource _logChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IGrainTimer? _timer;

    private string RunId => this.GetPrimaryKeyString();

    private TaskRunSpec Spec => state.State.Spec ?? throw new TaskRunStateException($"Task run '{RunId}' does not exist.");

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Status != TaskRunStatus.None && !TaskRunStatuses.IsTerminal(state.State.Status))
        {
            if (state.State.Manifest is not null)
            {
                // Back on another activation mid-run: the log so far is in PostgreSQL, chunk by chunk.
                _log.Write(await logs.ReadAsync(RunId, state.State.Attempt, cancellationToken));
            }

            StartTimer();
        }
    }

    public async Task<TaskRunSnapshot> CreateAsync(TaskRunSpec spec, string requestId)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var fingerprint = Fingerprint(spec);
        if (state.State.Status != TaskRunStatus.None)
        {
            // A retried submission (same Idempotency-Key, same request) gets the run it created; another request under
            // the same key is a conflict, never an overwrite.
            return state.State.Fingerprint == fingerprint
                ? Snapshot()
                : throw new TaskRunStateException($"Task run '{RunId}' already exists with a different request.");
        }

        if (spec.Argv.Count == 0)
        {
            throw new ArgumentException("A task needs a program to run (argv is empty).", nameof(spec));
        }

        var now = time.GetUtcNow();
        state.State.Spec = spec;
        state.State.Fingerprint = fingerprint;
        state.State.CreatedAt = now;
        state.State.CreatedByRequest = requestId;
        await TransitionAsync(TaskRunStatus.Requested, "submitted", requestId, spec.RequestedBy, "task.requested", AuditEvent.Allowed, $"policy:{spec.PolicyRule}");
        await this.RegisterOrUpdateReminder(MonitorReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        StartTimer();
        if (spec.Approval == TaskApproval.None)
        {
            await QueueAsync(requestId, spec.RequestedBy, $"policy rule '{spec.PolicyRule}' lets it run without approval");
        }
        else
        {
            state.State.ApprovalExpiresAt = now + spec.ApprovalTimeout;
            var who = spec.Approval == TaskApproval.TenantAdmin ? "a tenant admin" : "a person allowed to decide approvals";
            await TransitionAsync(TaskRunStatus.AwaitingApproval, $"policy rule '{spec.PolicyRule}' needs approval by {who}", requestId, spec.RequestedBy,
                "task.awaiting_approval", AuditEvent.Allowed, $"policy:{spec.PolicyRule}");
        }

        return Snapshot();
    }

    public Task<TaskRunSnapshot> GetAsync() => Task.FromResult(Snapshot());

    public async Task<TaskRunSnapshot> DecideAsync(TaskDecision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        var spec = Spec;
        if (!string.Equals(decision.Tenant, spec.Tenant, StringComparison.Ordinal))
        {
            throw new UnauthorizedAccessException($"Task run '{RunId}' is not in tenant '{decision.Tenant}'.");
        }

        await ExpireIfDueAsync();
        if (state.State.Status != TaskRunStatus.AwaitingApproval)
        {
            throw new TaskRunStateException($"Task run '{RunId}' is {TaskRunStatuses.Name(state.State.Status)}, not awaiting approval.");
        }

        var refusal = string.Equals(decision.DecidedBy, spec.RequestedBy, StringComparison.Ordinal)
            ? "the requester may not decide its own task"
            : spec.Approval == TaskApproval.TenantAdmin && !decision.AsTenantAdmin
                ? "this task needs a tenant admin's approval"
                : null;
        if (refusal is not null)
        {
            await AuditAsync("task.decision_refused", AuditEvent.Denied, "approval:refused", $"{decision.DecidedBy}: {refusal}", decision.RequestId, decision.DecidedBy);
            throw new UnauthorizedAccessException($"{refusal}.");
        }

        state.State.DecidedBy = decision.DecidedBy;
        var words = string.IsNullOrWhiteSpace(decision.Reason) ? string.Empty : $": {decision.Reason}";
        if (decision.Approved)
        {
            await QueueAsync(decision.RequestId, decision.DecidedBy, $"approved by {decision.DecidedBy}{words}");
        }
        else
        {
            await EndAsync(TaskRunStatus.Rejected, $"rejected by {decision.DecidedBy}{words}", decision.RequestId, decision.DecidedBy, "task.rejected", "approval:rejected");
        }

        return Snapshot();
    }

    public async Task<TaskRunSnapshot> CancelAsync(string cancelledBy, string reason, string requestId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(cancelledBy);
        _ = Spec;
        if (TaskRunStatuses.IsTerminal(state.State.Status))
        {
            throw new TaskRunStateException($"Task run '{RunId}' is {TaskRunStatuses.Name(state.State.Status)} and cannot be cancelled.");
        }

        if (state.State.Device is { } device && state.State.Manifest is not null)
        {
            await TellDeviceToCancelAsync(device);
        }

        await EndAsync(TaskRunStatus.Cancelled, $"cancelled by {cancelledBy}" + (string.IsNullOrWhiteSpace(reason) ? string.Empty : $": {reason}"),
            requestId, cancelledBy, "task.cancelled", "cancel");
        return Snapshot();
    }

    public async Task<TaskLogChunk> ReadLogAsync(long offset, int maxBytes, TimeSpan wait)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        maxBytes = Math.Clamp(maxBytes, 1, 1024 * 1024);
        if (state.State.LogDigest is { } stored)
        {
            var data = await artifacts.ReadAsync(stored, offset, maxBytes);
            return new TaskLogChunk(data, offset + data.Length, state.State.Status, offset + data.Length >= state.State.LogBytes);
        }

        if (offset >= _log.WrittenCount && !TaskRunStatuses.IsTerminal(state.State.Status) && wait > TimeSpan.Zero)
        {
            await _logChanged.Task.WaitAsync(wait < TimeSpan.FromSeconds(30) ? wait : TimeSpan.FromSeconds(30)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        }

        var length = _log.WrittenCount;
        var count = (int)Math.Clamp(length - offset, 0, maxBytes);
        var bytes = count == 0 ? [] : _log.WrittenSpan.Slice((int)offset, count).ToArray();
        var terminal = TaskRunStatuses.IsTerminal(state.State.Status);
        return new TaskLogChunk(bytes, offset + count, state.State.Status, terminal && offset + count >= length);
    }

    public Task<TaskAttestation?> GetAttestationAsync() =>
        Task.FromResult(state.State.Manifest is { } manifest ? new TaskAttestation(manifest, state.State.Result, state.State.DevicePublicKey) : null);

    public async Task<byte[]> ReadInputAsync(string device, string digest, long offset, int count)
    {
        RequireDevice(device);
        if (!Spec.Inputs.Any(input => string.Equals(input.Digest, digest, StringComparison.Ordinal))
            || await artifacts.FindAsync(Spec.Tenant, digest) is null)
        {
            throw new UnauthorizedAccessException($"Artifact {digest} is not an input of task run '{RunId}'.");
        }

        return await artifacts.ReadAsync(digest, offset, Math.Clamp(count, 0, 1024 * 1024));
    }

    public async Task ReportStartedAsync(string device, DateTimeOffset startedAt, string manifestSha256)
    {
        RequireDevice(device);
        if (state.State.Status == TaskRunStatus.Running)
        {
            return;
        }

        if (state.State.Status != TaskRunStatus.Queued || !string.Equals(manifestSha256, state.State.ManifestSha256, StringComparison.Ordinal))
        {
            // Cancelled (or ended) while it waited on the device: stop it there too.
            throw new TaskRunStateException($"Task run '{RunId}' is {TaskRunStatuses.Name(state.State.Status)}; do not run it.");
        }

        state.State.StartedAt = startedAt;
        await TransitionAsync(TaskRunStatus.Running, $"running on {device}", null, device, "task.running", AuditEvent.Allowed, "device:started");
    }

    public async Task<long> AppendLogAsync(string device, long offset, byte[] data)
    {
        RequireDevice(device);
        ArgumentNullException.ThrowIfNull(data);
        if (TaskRunStatuses.IsTerminal(state.State.Status))
        {
            return -1L;
        }

        if (offset == _log.WrittenCount)
        {
            // The device caps the log at the same limit; anything past it is not kept. Durable before acknowledged.
            var room = Spec.Limits.OutputBytes - _log.WrittenCount;
            var kept = data.AsMemory(0, (int)Math.Clamp(data.Length, 0, Math.Max(room, 0)));
            if (kept.Length > 0)
            {
                await logs.AppendAsync(RunId, state.State.Attempt, offset, kept);
            }

            _log.Write(kept.Span);
            var changed = _logChanged;
            _logChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            changed.TrySetResult();
            return offset + data.Length;
        }

        return _log.WrittenCount;
    }

    public Task<long> WriteOutputAsync(string device, int index, long offset, byte[] data)
    {
        RequireDevice(device);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Spec.Outputs.Count);
        if (!_outputs.TryGetValue(index, out var output))
        {
            _outputs[index] = output = new ArrayBufferWriter<byte>();
        }

        if (offset == output.WrittenCount && output.WrittenCount + data.Length <= Spec.Limits.FileSizeBytes)
        {
            output.Write(data);
        }

        return Task.FromResult((long)output.WrittenCount);
    }

    public async Task<TaskRunStatus> CompleteAsync(string device, SignedTaskResult result)
    {
        RequireDevice(device);
        ArgumentNullException.ThrowIfNull(result);
        if (TaskRunStatuses.IsTerminal(state.State.Status))
        {
            return state.State.Status;
        }

        if (state.State.DevicePublicKey is not { } deviceKey
            || !TaskSignatures.Verify(deviceKey, TaskSignatures.ResultText(result.ResultJson ?? string.Empty), result.Signature ?? []))
        {
            // Whoever sent it, the run is over: stop whatever still runs on the device.
            await TellDeviceToCancelAsync(device);
            await EndAsync(TaskRunStatus.Failed, $"device {device} returned a result whose signature does not verify with its registered key; the result was refused",
                null, device, "task.result_refused", "result:bad_signature", AuditEvent.Denied);
            return state.State.Status;
        }

        TaskResult? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize<TaskResult>(result.ResultJson!, TaskSignatures.Json);
        }
        catch (JsonException)
        {
            parsed = null;
        }

        var mismatch = parsed is null ? "it is not a result document"
            : parsed.RunId != RunId || parsed.Device != device ? "it names another run or device"
            : parsed.ManifestSha256 != state.State.ManifestSha256 ? "it is for another manifest"
            : parsed.LogBytes != _log.WrittenCount || parsed.LogSha256 != Convert.ToHexStringLower(SHA256.HashData(_log.WrittenSpan))
                ? $"its log digest does not match the {_log.WrittenCount} log bytes received"
            : OutputMismatch(parsed);
        if (mismatch is not null)
        {
            await TellDeviceToCancelAsync(device);
            await EndAsync(TaskRunStatus.Failed, $"device {device} returned a signed result that was refused: {mismatch}", null, device, "task.result_refused", "result:mismatch", AuditEvent.Denied);
            return state.State.Status;
        }

        var outputs = new List<TaskOutput>();
        for (var i = 0; i < parsed!.Outputs.Count; i++)
        {
            var declared = parsed.Outputs[i];
            var slot = Spec.Outputs.ToList().IndexOf(declared.Path);
            using var content = AsStream(_outputs[slot]);
            var stored = await artifacts.PutAsync(Spec.Tenant, content, ArtifactInfo.ProducedBy(RunId), device);
            outputs.Add(declared with { Digest = stored.Digest, Size = stored.Size });
        }

        state.State.Result = result;
        state.State.ResultVerified = true;
        state.State.Outputs = outputs;
        state.State.ExitCode = parsed.ExitCode;
        state.State.StartedAt ??= parsed.StartedAt;
        var (status, reason, rule) = parsed.End switch
        {
            TaskResult.Exited when parsed.ExitCode == 0 => (TaskRunStatus.Succeeded, "exit code 0", "result:succeeded"),
            TaskResult.Exited => (TaskRunStatus.Failed, $"exit code {parsed.ExitCode}", "result:failed"),
            TaskResult.TimedOut => (TaskRunStatus.TimedOut, $"killed at its wall limit of {Spec.Limits.WallSeconds} s", "result:timed_out"),
            TaskResult.Cancelled => (TaskRunStatus.Cancelled, "cancelled on the device", "result:cancelled"),
            TaskResult.OutputLimit => (TaskRunStatus.Failed, $"killed for writing more than its {Spec.Limits.OutputBytes} bytes of output", "result:output_limit"),
            _ => (TaskRunStatus.Failed, $"the device could not run it: {parsed.Error}", "result:start_failed"),
        };
        await EndAsync(status, reason, null, device, "task." + TaskRunStatuses.Name(status), rule);
        return status;
    }

    public async Task ReportRefusedAsync(string device, string reason)
    {
        ArgumentException.ThrowIfNullOrEmpty(device);
        reason = reason is { Length: > 500 } ? reason[..500] + "..." : reason ?? string.Empty;
        if (state.State.Spec is null || !string.Equals(state.State.Device, device, StringComparison.Ordinal))
        {
            // Only the run's own device speaks in the run's tenant's log; anyone else's claim goes to the system log.
            await AppendAuditAsync(SystemTenant, new AuditEvent(
                time.GetUtcNow(), device, "task.manifest_refused", AuditEvent.Denied, $"edge:{device}", NewRequestId(),
                Rule: "device:refused", Reason: $"run {RunId} ({(state.State.Spec is null ? "no such run" : "not dispatched to this device")}): device {device} refused a manifest: {reason}", Device: device));
            return;
        }

        if (state.State.Status == TaskRunStatus.Queued && string.Equals(state.State.Device, device, StringComparison.Ordinal))
        {
            await EndAsync(TaskRunStatus.Failed, $"device {device} refused the manifest: {reason}", null, device, "task.manifest_refused", "device:refused", AuditEvent.Denied);
            return;
        }

        await AuditAsync("task.manifest_refused", AuditEvent.Denied, "device:refused", $"device {device} refused a manifest for this run: {reason}", null, device, device);
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (state.State.Status == TaskRunStatus.None || TaskRunStatuses.IsTerminal(state.State.Status))
        {
            await UnregisterAsync();
            return;
        }

        // The reminder exists to bring the run back after a control silo restart; the timer does the checking.
        StartTimer();
        await MonitorAsync();
    }

    private void StartTimer() =>
        _timer ??= this.RegisterGrainTimer(_ => MonitorAsync(), options.Value.MonitorInterval, options.Value.MonitorInterval);

    private async Task MonitorAsync()
    {
        try
        {
            var now = time.GetUtcNow();
            switch (state.State.Status)
            {
                case TaskRunStatus.AwaitingApproval:
                    await ExpireIfDueAsync();
                    break;
                case TaskRunStatus.Queued when state.State.Manifest is null:
                    if (state.State.QueueDeadline is { } deadline && now > deadline)
                    {
                        await EndAsync(TaskRunStatus.Expired, $"no device took it within {options.Value.QueueTimeout}: {state.State.Reason}", null, "control-plane", "task.expired", "queue:expired");
                    }
                    else
                    {
                        await DispatchAsync(null, "control-plane");
                    }

                    break;
                case TaskRunStatus.Queued or TaskRunStatus.Running:
                    if (!await IsOnlineAsync(state.State.Device!))
                    {
                        await DeviceLostAsync(state.State.Device!);
                    }
                    else if (state.State.Status == TaskRunStatus.Running
                        && now > state.State.StartedAt!.Value + TimeSpan.FromSeconds(Spec.Limits.WallSeconds) + options.Value.ResultGrace)
                    {
                        await TellDeviceToCancelAsync(state.State.Device!);
                        await EndAsync(TaskRunStatus.TimedOut, $"device {state.State.Device} sent no result within its wall limit of {Spec.Limits.WallSeconds} s and {options.Value.ResultGrace} grace",
                            null, "control-plane", "task.timed_out", "monitor:no_result");
                    }

                    break;
            }
        }
        catch (Exception ex)
        {
            LogMonitorFailed(logger, ex, RunId);
        }
    }

    private async Task ExpireIfDueAsync()
    {
        if (state.State.Status == TaskRunStatus.AwaitingApproval && state.State.ApprovalExpiresAt is { } expires && time.GetUtcNow() > expires)
        {
            await EndAsync(TaskRunStatus.Expired, $"nobody decided within {Spec.ApprovalTimeout}", null, "control-plane", "task.expired", "approval:expired");
        }
    }

    private async Task QueueAsync(string? requestId, string subject, string reason)
    {
        state.State.QueueDeadline = time.GetUtcNow() + options.Value.QueueTimeout;
        await TransitionAsync(TaskRunStatus.Queued, reason, requestId, subject, "task.queued", AuditEvent.Allowed, state.State.DecidedBy is null ? $"policy:{Spec.PolicyRule}" : "approval:approved");
        await DispatchAsync(requestId, subject);
    }

    /// <summary>Picks a device, signs a manifest for it and hands it over; stays queued when no device can take it now.</summary>
    private async Task DispatchAsync(string? requestId, string subject)
    {
        var spec = Spec;
        var directory = await GrainFactory.GetGrain<IDeviceDirectoryGrain>(IDeviceDirectoryGrain.Key).ListAsync();
        var usable = directory
            .Where(d => d.Online && d.Record.Registration.ExecutionKey is not null
                && d.Record.Registration.Capabilities.Contains(DeviceTasks.Execute, StringComparer.Ordinal)
                && !state.State.LostDevices.Contains(d.Record.Registration.DeviceId, StringComparer.Ordinal))
            .ToDictionary(d => d.Record.Registration.DeviceId, StringComparer.Ordinal);
        var candidates = spec.Candidates.Where(usable.ContainsKey).ToList();
        if (candidates.Count == 0)
        {
            state.State.Reason = spec.Candidates.Count == 0
                ? "no device of this tenant executes tasks"
                : $"waiting for one of {string.Join(", ", spec.Candidates)} to be online and execute tasks";
            await state.WriteStateAsync();
            return;
        }

        // The least busy candidate; the router's order breaks ties.
        var device = candidates.OrderBy(id => usable[id].Record.Load is { } load ? load.TasksRunning + load.TasksQueued : 0).First();
        var now = time.GetUtcNow();
        var expires = now + options.Value.ManifestLifetime;
        var manifest = new TaskManifest(
            TaskManifest.CurrentVersion, RunId, spec.Tenant, device, state.State.Attempt + 1, spec.Kind, spec.Argv, spec.Environment, spec.Inputs,
            spec.Outputs, TaskManifest.SandboxWorkDirectory, spec.Limits, spec.Network, now, expires);
        var json = JsonSerializer.Serialize(manifest, TaskSignatures.Json);
        SignedManifest signed;
        using (var ephemeral = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            // The ephemeral private key signs this one manifest and is gone with this scope: nothing else can ever be
            // signed in this run's name, even by someone who later reads the control plane's state.
            var publicKey = ephemeral.ExportSubjectPublicKeyInfo();
            var endorsement = await keys.EndorseAsync(RunId, device, publicKey, expires);
            signed = new SignedManifest(json, TaskSignatures.Sign(ephemeral, TaskSignatures.ManifestText(json)), publicKey, endorsement);
        }

        state.State.Attempt++;
        state.State.Device = device;
        state.State.Manifest = signed;
        state.State.ManifestSha256 = TaskSignatures.Sha256Hex(json);
        state.State.DevicePublicKey = usable[device].Record.Registration.ExecutionKey;
        state.State.DispatchedAt = now;
        _log = new ArrayBufferWriter<byte>();
        _outputs.Clear();
        await TransitionAsync(TaskRunStatus.Queued, $"dispatched to {device} (attempt {state.State.Attempt})", requestId, subject, "task.dispatched", AuditEvent.Allowed, "router:picked", device);
        try
        {
            await GrainFactory.GetGrain<IEdgeDeviceGrain>(device).StartTaskAsync(signed);
        }
        catch (TaskRefusedException ex)
        {
            if (state.State.Status == TaskRunStatus.Queued && state.State.Device == device)
            {
                await EndAsync(TaskRunStatus.Failed, $"device {device} refused the manifest: {ex.Message}", requestId, device, "task.manifest_refused", "device:refused", AuditEvent.Denied);
            }
        }
        catch (Exception ex) when (ex is not TaskRunStateException)
        {
            // Unreachable now (its silo died or is leaving): take the run back and try again at the next check.
            LogDispatchFailed(logger, ex, RunId, device);
            if (state.State.Status == TaskRunStatus.Queued && state.State.Device == device && state.State.StartedAt is null)
            {
                state.State.Manifest = null;
                state.State.Device = null;
                state.State.Reason = $"device {device} could not be reached; waiting for a device";
                await state.WriteStateAsync();
            }
        }
    }

    private async Task DeviceLostAsync(string device)
    {
        var was = TaskRunStatuses.Name(state.State.Status);
        state.State.LostDevices.Add(device);
        if (Spec.RetrySafe && state.State.Attempt < options.Value.MaxAttempts)
        {
            state.State.Manifest = null;
            state.State.Device = null;
            state.State.StartedAt = null;
            _log = new ArrayBufferWriter<byte>();
            await TransitionAsync(TaskRunStatus.Queued, $"device {device} left the cluster while the task was {was}; retrying elsewhere (retry-safe)", null, "control-plane",
                "task.retry", AuditEvent.Allowed, "monitor:device_lost", device);
            await DispatchAsync(null, "control-plane");
            return;
        }

        await EndAsync(TaskRunStatus.Failed, $"device {device} left the cluster while the task was {was}", null, "control-plane", "task.failed", "monitor:device_lost", AuditEvent.Allowed, device);
    }

    private async Task<bool> IsOnlineAsync(string device)
    {
        var devices = await GrainFactory.GetGrain<IDeviceDirectoryGrain>(IDeviceDirectoryGrain.Key).ListAsync();
        return devices.Any(d => d.Online && d.Record.Registration.DeviceId == device);
    }

    private async Task TellDeviceToCancelAsync(string device)
    {
        try
        {
            await GrainFactory.GetGrain<IEdgeDeviceGrain>(device).CancelTaskAsync(RunId).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception ex)
        {
            // A dead device has nothing left to kill; a live one that missed this refuses to report a cancelled run.
            LogCancelFailed(logger, ex, RunId, device);
        }
    }

    private async Task EndAsync(TaskRunStatus status, string reason, string? requestId, string subject, string action, string rule, string decision = AuditEvent.Allowed, string? device = null)
    {
        state.State.EndedAt = time.GetUtcNow();
        if (state.State.LogDigest is null && _log.WrittenCount > 0)
        {
            using var content = AsStream(_log);
            var stored = await artifacts.PutAsync(Spec.Tenant, content, ArtifactInfo.ProducedBy(RunId), state.State.Device ?? "control-plane");
            state.State.LogDigest = stored.Digest;
            state.State.LogBytes = stored.Size;
        }

        await TransitionAsync(status, reason, requestId, subject, action, decision, rule, device ?? state.State.Device);
        await logs.DeleteAsync(RunId);
        _logChanged.TrySetResult();
        await UnregisterAsync();
    }

    private async Task UnregisterAsync()
    {
        _timer?.Dispose();
        _timer = null;
        try
        {
            if (await this.GetReminder(MonitorReminder) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }
        }
        catch (Exception ex)
        {
            LogReminderFailed(logger, ex, RunId);
        }
    }

    private async Task TransitionAsync(TaskRunStatus status, string reason, string? requestId, string subject, string action, string decision, string rule, string? device = null)
    {
        var from = state.State.Status;
        state.State.Status = status;
        state.State.Reason = reason;
        state.State.UpdatedAt = time.GetUtcNow();
        await state.WriteStateAsync();
        var spec = Spec;
        await index.UpsertAsync(new TaskRunIndexRow(
            RunId, spec.Tenant, TaskRunStatuses.Name(status), spec.Kind, spec.RequestedBy, spec.ClientId, state.State.Device,
            spec.Approval switch { TaskApproval.Human => "human", TaskApproval.TenantAdmin => "tenant_admin", _ => "none" },
            spec.PolicyRule, state.State.ApprovalExpiresAt, state.State.CreatedAt, state.State.UpdatedAt));
        await AuditAsync(action, decision, rule, $"{TaskRunStatuses.Name(from)} -> {TaskRunStatuses.Name(status)}: {reason}", requestId, subject, device);
    }

    private Task<AuditEntry> AuditAsync(string action, string decision, string rule, string reason, string? requestId, string subject, string? device = null)
    {
        var spec = Spec;
        var cause = requestId is null ? string.Empty : $"; request {requestId}";
        return AppendAuditAsync(spec.Tenant, new AuditEvent(
            time.GetUtcNow(), subject, action, decision, device is null ? null : $"edge:{device}", NewRequestId(),
            ClientId: spec.ClientId, Rule: rule, Reason: $"run {RunId}{cause}: {reason}", Device: device ?? string.Empty));
    }

    private Task<AuditEntry> AppendAuditAsync(string tenant, AuditEvent auditEvent) => GrainFactory.GetGrain<IAuditLogGrain>(tenant).AppendAsync(auditEvent);

    private static MemoryStream AsStream(ArrayBufferWriter<byte> buffer) =>
        MemoryMarshal.TryGetArray(buffer.WrittenMemory, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(buffer.WrittenSpan.ToArray(), writable: false);

    private string? OutputMismatch(TaskResult result)
    {
        foreach (var output in result.Outputs)
        {
            var slot = Spec.Outputs.ToList().IndexOf(output.Path);
            if (slot < 0)
            {
                return $"it returns '{output.Path}', which the manifest does not name";
            }

            if (!_outputs.TryGetValue(slot, out var received) || received.WrittenCount != output.Size
                || output.Digest != "sha256:" + Convert.ToHexStringLower(SHA256.HashData(received.WrittenSpan)))
            {
                return $"output '{output.Path}' does not match the bytes received";
            }
        }

        return null;
    }

    private void RequireDevice(string device)
    {
        if (state.State.Spec is null || state.State.Device is null || !string.Equals(device, state.State.Device, StringComparison.Ordinal))
        {
            throw new UnauthorizedAccessException($"Task run '{RunId}' is not dispatched to device '{device}'.");
        }
    }

    private static string NewRequestId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    private static string Fingerprint(TaskRunSpec spec) =>
        Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(
            spec with { Candidates = [], Approval = TaskApproval.None, PolicyRule = string.Empty, ApprovalTimeout = TimeSpan.Zero }, TaskSignatures.Json)));

    private TaskRunSnapshot Snapshot() => new(
        RunId, state.State.Status, state.State.Spec, state.State.CreatedAt, state.State.UpdatedAt, state.State.Reason,
        state.State.Device, state.State.ExitCode, state.State.StartedAt, state.State.EndedAt, state.State.Outputs,
        state.State.LogDigest, state.State.LogDigest is null ? _log.WrittenCount : state.State.LogBytes, state.State.DecidedBy,
        state.State.ApprovalExpiresAt, state.State.Attempt, state.State.ResultVerified, state.State.CreatedByRequest);

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Task run {RunId}: checking its deadlines and device failed; retrying at the next check")]
    private static partial void LogMonitorFailed(ILogger logger, Exception exception, string runId);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Task run {RunId}: device {Device} could not be reached to start it")]
    private static partial void LogDispatchFailed(ILogger logger, Exception exception, string runId, string device);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Task run {RunId}: device {Device} could not be told to cancel it")]
    private static partial void LogCancelFailed(ILogger logger, Exception exception, string runId, string device);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Task run {RunId}: its monitor reminder could not be removed")]
    private static partial void LogReminderFailed(ILogger logger, Exception exception, string runId);
}
