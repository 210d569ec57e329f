using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Outpost.EdgeSilo.EdgeDevices;
using Outpost.EdgeSilo.Tasks.Sandbox;
using Outpost.Grains.TaskRuns;

namespace Outpost.EdgeSilo.Tasks;

/// <summary>
/// Runs verified manifests on this device, at most <see cref="SandboxOptions.MaxConcurrentRuns"/> at a time, the rest
/// waiting in order. For each: fetch the inputs by digest from the control plane and check them, place them, run the
/// sandbox while streaming the log, return the outputs, and deliver a result signed with the device key. Work is not
/// tied to the device grain's activation; what reaches the control plane is sent from this silo in the device's name,
/// which the control plane's edge call filter checks.
/// </summary>
public sealed partial class TaskExecutor(
    IGrainFactory grains,
    SandboxRunner sandbox,
    DeviceKey key,
    IOptions<TaskExecutionOptions> options,
    IOptions<SandboxOptions> sandboxOptions,
    IOptions<EdgeOptions> edge,
    TimeProvider time,
    ILogger<TaskExecutor> logger) : IDisposable
{
    private const int ChunkBytes = 256 * 1024;

    private readonly SemaphoreSlim _slots = new(sandboxOptions.Value.MaxConcurrentRuns, sandboxOptions.Value.MaxConcurrentRuns);
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _runs = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private int _running;
    private int _queued;

    /// <summary>Whether this device takes task runs: enabled, and the sandbox works here.</summary>
    public bool IsAvailable => options.Value.Enabled && sandbox.Capabilities.Available;

    /// <summary>What the device advertises about execution: <c>execute</c> and the caps its sandbox enforces.</summary>
    public IReadOnlyList<string> Capabilities => IsAvailable ? [DeviceTasksExecute, .. sandbox.Capabilities.Enforced] : [];

    /// <summary>The device's public result-signing key, when it takes runs.</summary>
    public byte[]? PublicKey => IsAvailable ? key.PublicKey : null;

    public int Running => Volatile.Read(ref _running);

    public int Queued => Volatile.Read(ref _queued);

    private static string DeviceTasksExecute => Grains.EdgeDevices.DeviceTasks.Execute;

    private string Device => edge.Value.DeviceId;

    /// <summary>Queues a verified manifest; returns at once.</summary>
    public void Enqueue(TaskManifest manifest, string manifestSha256)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        if (!_runs.TryAdd(manifest.RunId, cancel))
        {
            cancel.Dispose();
            return;
        }

        Interlocked.Increment(ref _queued);
        _ = Task.Run(() => ExecuteAsync(manifest, manifestSha256, cancel), CancellationToken.None);
    }

    /// <summary>Kills a queued or running run; false when it is not here.</summary>
    public bool Cancel(string runId)
    {
        if (!_runs.TryGetValue(runId, out var cancel))
        {
            return false;
        }

        try
        {
            cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
            return false;
        }

        return true;
    }

    /// <summary>
    /// Removes the work directories this device left when it last died mid-run. At start nothing of this device runs, and
    /// a run id never runs twice, so every one of them is debris.
    /// </summary>
    public void SweepLeftovers()
    {
        var root = sandboxOptions.Value.WorkRoot;
        if (!IsAvailable || !Directory.Exists(root))
        {
            return;
        }

        foreach (var path in Directory.EnumerateDirectories(root, Device + ".*"))
        {
            TryDelete(() => sandbox.DeleteWorkDirectory(path));
        }
    }

    /// <summary>Tells the control plane, in the background, that a manifest was refused (it audits the refusal).</summary>
    public void ReportRefusal(string runId, string reason) =>
        _ = Task.Run(async () =>
        {
            try
            {
                await grains.GetGrain<ITaskRunExecutionGrain>(runId).ReportRefusedAsync(Device, reason);
            }
            catch (Exception ex)
            {
                LogRefusalNotReported(logger, ex, runId);
            }
        }, CancellationToken.None);

    public void Dispose()
    {
        _stopping.Cancel();
        _stopping.Dispose();
        _slots.Dispose();
    }

    private async Task ExecuteAsync(TaskManifest manifest, string manifestSha256, CancellationTokenSource cancel)
    {
        var run = grains.GetGrain<ITaskRunExecutionGrain>(manifest.RunId);
        var slot = false;
        var delivered = false;
        string? workDirectory = null;
        string? staging = null;
        try
        {
            try
            {
                await _slots.WaitAsync(cancel.Token);
                slot = true;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            finally
            {
                Interlocked.Decrement(ref _queued);
            }

            Interlocked.Increment(ref _running);
            var startedAt = time.GetUtcNow();
            string? error = null;
            // Named for the device too: edge silos sharing a machine (./run.sh --edges 2) share the work root, and one
            // that died mid-run leaves its directory behind; a directory this device left in a crash is its own to remove.
            var name = $"{Device}.{manifest.RunId}";
            if (Path.Exists(Path.Combine(sandboxOptions.Value.WorkRoot, name)))
            {
                sandbox.DeleteWorkDirectory(Path.Combine(sandboxOptions.Value.WorkRoot, name));
            }

            workDirectory = sandbox.CreateWorkDirectory(name);
            try
            {
                // A fresh private directory (0700, a new random name): nothing another local user made can be in the way.
                staging = Directory.CreateTempSubdirectory($"outpost-inputs-{Device}-").FullName;
                await PrepareAsync(run, manifest, workDirectory, staging, cancel.Token);
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException or FileNotFoundException)
            {
                error = ex.Message;
            }

            if (cancel.IsCancellationRequested)
            {
                return;
            }

            if (error is null)
            {
                try
                {
                    await DeliverAsync(async () =>
                    {
                        await run.ReportStartedAsync(Device, startedAt, manifestSha256);
                        return true;
                    });
                }
                catch (TaskRunStateException)
                {
                    // Cancelled (or ended) while it waited here: never start it.
                    return;
                }
            }

            using var log = new LogPump(run, Device, options.Value.LogFlushInterval);
            SandboxResult outcome;
            if (error is null)
            {
                var limits = manifest.Limits;
                var request = new SandboxRequest(
                    name, manifest.Argv, manifest.Environment, workDirectory,
                    new SandboxLimits(TimeSpan.FromSeconds(limits.WallSeconds), TimeSpan.FromSeconds(limits.CpuSeconds), limits.MemoryBytes,
                        limits.Processes, limits.OutputBytes, limits.FileSizeBytes, limits.OpenFiles));
                var pump = log.RunAsync(cancel.Token);
                outcome = await sandbox.RunAsync(request, log.AppendAsync, cancel.Token);
                await log.StopAsync(pump);
            }
            else
            {
                outcome = new SandboxResult(SandboxEnd.StartFailed, null, TimeSpan.Zero, null, 0, error);
            }

            await log.FlushAsync(DeliverAsync);
            var (outputs, outputError) = await ReturnOutputsAsync(run, manifest, workDirectory, outcome.End == SandboxEnd.StartFailed);
            var result = new TaskResult(
                manifest.RunId, Device, manifestSha256,
                outcome.End switch
                {
                    SandboxEnd.Exited => TaskResult.Exited,
                    SandboxEnd.TimedOut => TaskResult.TimedOut,
                    SandboxEnd.Cancelled => TaskResult.Cancelled,
                    SandboxEnd.OutputLimit => TaskResult.OutputLimit,
                    _ => TaskResult.StartFailed,
                },
                outcome.ExitCode, startedAt, time.GetUtcNow(), outcome.Cpu is { } cpu ? (long)cpu.TotalMilliseconds : null,
                log.Sha256Hex(), log.Length, outputs, outcome.Error ?? outputError);
            var json = JsonSerializer.Serialize(result, TaskSignatures.Json);
            var signed = new SignedTaskResult(json, key.Sign(TaskSignatures.ResultText(json)));
            var status = await DeliverAsync(() => run.CompleteAsync(Device, signed));
            delivered = true;
            LogRunEnded(logger, manifest.RunId, result.End, result.ExitCode, status);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogRunFailed(logger, ex, manifest.RunId);
            if (!delivered && slot)
            {
                // Whatever broke here, the control plane hears of it now rather than at the wall limit.
                await ReportBrokenAsync(run, manifest, manifestSha256, ex);
            }
        }
        finally
        {
            if (workDirectory is not null)
            {
                TryDelete(() => sandbox.DeleteWorkDirectory(workDirectory));
            }

            if (staging is not null)
            {
                TryDelete(() => Directory.Delete(staging, recursive: true));
            }
            if (slot)
            {
                Interlocked.Decrement(ref _running);
                _slots.Release();
            }

            _runs.TryRemove(manifest.RunId, out _);
            cancel.Dispose();
        }
    }

    private async Task ReportBrokenAsync(ITaskRunExecutionGrain run, TaskManifest manifest, string manifestSha256, Exception problem)
    {
        try
        {
            var now = time.GetUtcNow();
            var result = new TaskResult(manifest.RunId, Device, manifestSha256, TaskResult.StartFailed, null, now, now, null,
                Convert.ToHexStringLower(SHA256.HashData([])), 0, [], $"the device failed running it: {problem.Message}");
            var json = JsonSerializer.Serialize(result, TaskSignatures.Json);
            await run.CompleteAsync(Device, new SignedTaskResult(json, key.Sign(TaskSignatures.ResultText(json))));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogRunFailed(logger, ex, manifest.RunId);
        }
    }

    private async Task PrepareAsync(ITaskRunExecutionGrain run, TaskManifest manifest, string workDirectory, string staging, CancellationToken cancellationToken)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("Task execution needs Linux (bubblewrap, cgroups).");
        }

        for (var i = 0; i < manifest.Inputs.Count; i++)
        {
            var input = manifest.Inputs[i];
            var file = Path.Combine(staging, $"input-{i}");
            await using (var output = File.Create(file))
            {
                for (long offset = 0; ; )
                {
                    var chunk = await DeliverAsync(() => run.ReadInputAsync(Device, input.Digest, offset, 1024 * 1024));
                    if (chunk.Length == 0)
                    {
                        break;
                    }

                    await output.WriteAsync(chunk, cancellationToken);
                    offset += chunk.Length;
                }
            }

            if (!await TaskWorkspace.MatchesAsync(file, input.Digest))
            {
                throw new InvalidDataException($"Input {input.Digest} arrived with other content; it was not used.");
            }

            TaskWorkspace.Place(workDirectory, input, file, options.Value.MaxUnpackedBytes, options.Value.MaxUnpackedFiles);
        }

        TaskWorkspace.GiveTo(workDirectory, sandboxOptions.Value.UserId, sandboxOptions.Value.GroupId);
    }

    private async Task<(IReadOnlyList<TaskOutput> Outputs, string? Problem)> ReturnOutputsAsync(
        ITaskRunExecutionGrain run, TaskManifest manifest, string workDirectory, bool skip)
    {
        var outputs = new List<TaskOutput>();
        var problems = new List<string>();
        for (var index = 0; index < manifest.Outputs.Count && !skip; index++)
        {
            var relative = manifest.Outputs[index];
            var file = TaskWorkspace.FindOutput(workDirectory, relative, out var problem);
            if (problem is not null)
            {
                problems.Add(problem);
            }

            if (file is null)
            {
                continue;
            }

            if (file.Length > manifest.Limits.FileSizeBytes)
            {
                problems.Add($"output '{relative}' is larger than {manifest.Limits.FileSizeBytes} bytes");
                continue;
            }

            // The digest first, then the bytes from wherever the grain says it is: a grain that lost what it had (its
            // silo died) answers a lower offset, and the upload goes on from there.
            string digest;
            await using (var hashing = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.Read))
            {
                digest = "sha256:" + Convert.ToHexStringLower(await SHA256.HashDataAsync(hashing));
            }

            await using var stream = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.Read);
            var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
            try
            {
                long offset = 0;
                var length = stream.Length;
                var rewinds = 0;
                while (offset < length)
                {
                    stream.Position = offset;
                    var read = await stream.ReadAtLeastAsync(buffer.AsMemory(0, (int)Math.Min(ChunkBytes, length - offset)), 1, throwOnEndOfStream: false);
                    if (read == 0)
                    {
                        break;
                    }

                    var chunk = buffer.AsSpan(0, read).ToArray();
                    var at = offset;
                    var next = await DeliverAsync(() => run.WriteOutputAsync(Device, index, at, chunk));
                    if (next != offset + read && ++rewinds > 3)
                    {
                        throw new IOException($"The control plane kept losing output '{relative}' while it was being sent.");
                    }

                    offset = Math.Clamp(next, 0, length);
                }

                outputs.Add(new TaskOutput(relative, digest, length));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        return (outputs, problems.Count == 0 ? null : string.Join("; ", problems));
    }

    /// <summary>
    /// Calls the control plane, retrying while it is unreachable (a control silo restarting), up to
    /// <see cref="TaskExecutionOptions.DeliveryTimeout"/>; refusals are not retried.
    /// </summary>
    private async Task<T> DeliverAsync<T>(Func<Task<T>> call)
    {
        var deadline = time.GetUtcNow() + options.Value.DeliveryTimeout;
        var delay = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception ex) when (ex is not (TaskRunStateException or UnauthorizedAccessException or ArgumentException or InvalidDataException)
                && time.GetUtcNow() < deadline && !_stopping.IsCancellationRequested)
            {
                LogDeliveryRetry(logger, ex);
                await Task.Delay(delay, time);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    private void TryDelete(Action delete)
    {
        try
        {
            delete();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or DirectoryNotFoundException)
        {
            LogCleanupFailed(logger, ex);
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Task run {RunId} ended {End} (exit code {ExitCode}); the control plane recorded {Status}")]
    private static partial void LogRunEnded(ILogger logger, string runId, string end, int? exitCode, TaskRunStatus status);

    [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "Task run {RunId} could not be completed on this device")]
    private static partial void LogRunFailed(ILogger logger, Exception exception, string runId);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "The control plane could not be reached for a task run; retrying")]
    private static partial void LogDeliveryRetry(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "A task run's files could not be removed")]
    private static partial void LogCleanupFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "The refusal of a manifest for run {RunId} could not be reported")]
    private static partial void LogRefusalNotReported(ILogger logger, Exception exception, string runId);
}
