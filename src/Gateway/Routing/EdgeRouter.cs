using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using Outpost.Gateway.Errors;
using Outpost.Grains.EdgeDevices;
using Outpost.Grains.Inference;

namespace Outpost.Gateway.Routing;

/// <summary>
/// Picks the edge device for each request: among online devices that serve the model, the least loaded (requests
/// this gateway has in flight there, the queue the device last reported, and recent latency). A device that is full
/// or gone is skipped and the next one tried; when none is left the request gets 503 with Retry-After.
/// Embeddings are idempotent, so a request whose device died mid-flight is simply run again elsewhere; a completion is
/// only moved before its first token.
/// </summary>
public sealed partial class EdgeRouter(
    DeviceCatalog catalog,
    IClusterClient cluster,
    IOptions<RoutingOptions> options,
    TimeProvider time,
    ILogger<EdgeRouter> logger)
{
    // How long to wait before the one more round over the devices when every one of them failed.
    private static readonly TimeSpan SecondPassDelay = TimeSpan.FromMilliseconds(250);

    private readonly ConcurrentDictionary<string, DeviceState> _states = new(StringComparer.Ordinal);

    public Task<EmbeddingResult> EmbedAsync(string tenant, EmbeddingRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RouteAsync(tenant, request.Model, DeviceTasks.Embed, (device, token) => device.EmbedAsync(request, token), cancellationToken);
    }

    public Task<GenerationResult> GenerateAsync(string tenant, GenerationRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RouteAsync(tenant, request.Model, DeviceTasks.Generate, (device, token) => device.GenerateAsync(request, token), cancellationToken);
    }

    /// <summary>Streams a completion from the chosen device; <paramref name="onDevice"/> learns which before the first chunk.</summary>
    public async IAsyncEnumerable<GenerationChunk> GenerateStreamAsync(
        string tenant, GenerationRequest request, Action<string> onDevice, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(onDevice);

        // The first chunk is pulled inside the routing loop, so rejections and dead devices fail over; after it the
        // completion belongs to that device.
        IAsyncEnumerator<GenerationChunk>? stream = null;
        var (deviceId, first) = await RouteAsync(tenant, request.Model, DeviceTasks.Generate, async (device, token) =>
        {
            var enumerator = device.GenerateStreamAsync(request, token).GetAsyncEnumerator(token);
            try
            {
                var hasFirst = await enumerator.MoveNextAsync();
                stream = enumerator;
                return (device.GetPrimaryKeyString(), hasFirst ? enumerator.Current : null);
            }
            catch
            {
                await enumerator.DisposeAsync();
                throw;
            }
        }, cancellationToken);

        await using var _ = stream;
        onDevice(deviceId);
        if (first is null)
        {
            yield break;
        }

        yield return first;
        while (await stream!.MoveNextAsync())
        {
            yield return stream.Current;
        }
    }

    private async Task<T> RouteAsync<T>(
        string tenant, string model, string task, Func<IEdgeDeviceGrain, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        // Another tenant's devices do not exist for this caller: not in routing, not in error messages.
        var devices = AvailableTo(await catalog.GetDevicesAsync(cancellationToken), tenant);
        var serving = devices.Where(d => Serves(d, model, task)).ToList();
        if (serving.Count == 0)
        {
            // The model may be on a device that registered since the last refresh.
            devices = AvailableTo(await catalog.ReloadAsync(cancellationToken), tenant);
            serving = devices.Where(d => Serves(d, model, task)).ToList();
        }

        if (serving.Count == 0)
        {
            throw new ProblemException(
                StatusCodes.Status404NotFound,
                "model-not-found",
                "Model not found",
                $"No edge device serves {task} model '{model}'. Models available: {Available(devices, task)}.");
        }

        var tried = new HashSet<string>(StringComparer.Ordinal);
        var failures = new List<string>();
        TimeSpan? retryAfter = null;
        var busy = 0;
        for (var pass = 0; pass < 2; pass++)
        {
            if (pass == 1)
            {
                // Every device failed, none was merely busy: a cluster change in flight (a silo dying, a manifest being
                // refreshed) can fail calls for a moment. One more round on a fresh device list before giving up.
                if (busy > 0 || failures.Count == 0)
                {
                    break;
                }

                await Task.Delay(SecondPassDelay, cancellationToken);
                serving = AvailableTo(await catalog.ReloadAsync(cancellationToken), tenant).Where(d => Serves(d, model, task)).ToList();
                tried.Clear();
            }

            while (Pick(serving, tried) is { } deviceId)
            {
                tried.Add(deviceId);
                if (Resolve(deviceId) is not { } device)
                {
                    failures.Add($"{deviceId}: not yet known to this gateway");
                    continue;
                }

                var state = _states.GetOrAdd(deviceId, _ => new DeviceState());
                state.Begin();
                var started = Stopwatch.GetTimestamp();
                using var callToken = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, catalog.OfflineToken(deviceId));
                try
                {
                    var result = await call(device, callToken.Token);
                    state.Succeeded(Stopwatch.GetElapsedTime(started));
                    return result;
                }
                catch (InferenceRejectedException ex) when (ex.Reason == InferenceRejection.QueueFull)
                {
                    busy++;
                    retryAfter = retryAfter is null || ex.RetryAfter < retryAfter ? ex.RetryAfter : retryAfter;
                    LogDeviceBusy(logger, deviceId);
                }
                catch (InferenceRejectedException ex) when (ex.Reason == InferenceRejection.UnknownModel)
                {
                    // The catalog was stale: the device dropped the model since it last registered.
                    catalog.RequestRefresh();
                    LogDeviceSkipped(logger, ex, deviceId);
                }
                catch (InferenceRejectedException ex)
                {
                    throw ProblemException.BadRequest(ex.Message);
                }
                catch (Exception ex) when ((IsUnavailable(ex) || ex is OperationCanceledException) && !cancellationToken.IsCancellationRequested)
                {
                    failures.Add($"{deviceId}: {Describe(ex)}");
                    state.Penalize(time.GetUtcNow() + options.Value.FailurePenalty);
                    catalog.RequestRefresh();
                    LogDeviceSkipped(logger, ex, deviceId);
                }
                finally
                {
                    state.End();
                }
            }
        }

        throw busy > 0
            ? new ProblemException(
                StatusCodes.Status503ServiceUnavailable,
                "devices-busy",
                "All devices busy",
                $"Every edge device serving '{model}' has a full queue; retry later.",
                retryAfter ?? options.Value.DefaultRetryAfter)
            : new ProblemException(
                StatusCodes.Status503ServiceUnavailable,
                "no-device-available",
                "No device available",
                $"No online edge device could serve '{model}' ({failures.Count} attempts{(failures.Count > 0 ? ": " + string.Join("; ", failures) : "")}).",
                options.Value.DefaultRetryAfter);
    }

    // The device's grain, or null while this gateway's copy of the cluster manifest names no silo that hosts device
    // grains: an edge silo that joined moments ago, before the next manifest refresh. The caller then tries another
    // device, and at worst answers 503 with Retry-After instead of failing the request.
    private IEdgeDeviceGrain? Resolve(string deviceId)
    {
        try
        {
            return cluster.GetGrain<IEdgeDeviceGrain>(deviceId);
        }
        catch (ArgumentException ex)
        {
            catalog.RequestRefresh();
            LogDeviceSkipped(logger, ex, deviceId);
            return null;
        }
    }

    private string? Pick(List<DeviceSummary> serving, HashSet<string> tried)
    {
        var now = time.GetUtcNow();
        string? best = null;
        var bestScore = double.MaxValue;
        var bestPenalized = true;
        foreach (var device in serving)
        {
            var id = device.Record.Registration.DeviceId;
            if (!device.Online || tried.Contains(id))
            {
                continue;
            }

            var state = _states.GetOrAdd(id, _ => new DeviceState());
            var penalized = state.IsPenalized(now);
            var score = state.Score(device.Record.Load);

            // A penalized device is only used when nothing healthy is left; ties go to a random device.
            var better = (bestPenalized && !penalized)
                || (penalized == bestPenalized && (score < bestScore || (score == bestScore && Random.Shared.Next(2) == 0)));
            if (best is null || better)
            {
                (best, bestScore, bestPenalized) = (id, score, penalized);
            }
        }

        return best;
    }

    private List<DeviceSummary> AvailableTo(IReadOnlyList<DeviceSummary> devices, string tenant) =>
        devices.Where(d => catalog.IsAvailableTo(d.Record.Registration.DeviceId, tenant)).ToList();

    private static bool Serves(DeviceSummary device, string model, string task) =>
        device.Record.Registration.Models.Any(m => m.Task == task && string.Equals(m.Name, model, StringComparison.Ordinal));

    private static string Available(IReadOnlyList<DeviceSummary> devices, string task)
    {
        var names = devices.SelectMany(d => d.Record.Registration.Models).Where(m => m.Task == task).Select(m => m.Name).Distinct().Order().ToList();
        return names.Count == 0 ? "none" : string.Join(", ", names);
    }

    // What went wrong with one device, in words an operator can act on (no exception text, which may hold addresses).
    private static string Describe(Exception ex) => ex switch
    {
        DeviceUnavailableException => "its silo is gone",
        TimeoutException => "no answer in time",
        OperationCanceledException => "went offline during the call",
        SiloUnavailableException => "its silo is unreachable",
        OrleansMessageRejectionException => "the cluster refused the call",
        _ => "the cluster failed the call (" + ex.GetType().Name + ")",
    };

    // OrleansException covers a dead or unreachable silo (SiloUnavailableException, OrleansMessageRejectionException).
    private static bool IsUnavailable(Exception ex) =>
        ex is DeviceUnavailableException or TimeoutException or OrleansException;

    [LoggerMessage(EventId = 30, EventName = "DeviceBusy", Level = LogLevel.Debug, Message = "Device {DeviceId} is busy; trying another")]
    private static partial void LogDeviceBusy(ILogger logger, string deviceId);

    [LoggerMessage(EventId = 31, EventName = "DeviceSkipped", Level = LogLevel.Warning, Message = "Device {DeviceId} failed a request; trying another")]
    private static partial void LogDeviceSkipped(ILogger logger, Exception exception, string deviceId);

    /// <summary>What this gateway knows about one device's load.</summary>
    private sealed class DeviceState
    {
        private int _inFlight;
        private double _latencyMs = 1;
        private long _penalizedUntilTicks;

        public void Begin() => Interlocked.Increment(ref _inFlight);

        public void End() => Interlocked.Decrement(ref _inFlight);

        public void Succeeded(TimeSpan elapsed)
        {
            Volatile.Write(ref _latencyMs, (0.9 * Volatile.Read(ref _latencyMs)) + (0.1 * elapsed.TotalMilliseconds));
            Volatile.Write(ref _penalizedUntilTicks, 0);
        }

        public void Penalize(DateTimeOffset until) => Volatile.Write(ref _penalizedUntilTicks, until.UtcTicks);

        public bool IsPenalized(DateTimeOffset now) => Volatile.Read(ref _penalizedUntilTicks) > now.UtcTicks;

        /// <summary>Expected wait: work ahead of a new request times how long a request takes there.</summary>
        public double Score(DeviceLoad? reported) =>
            (Volatile.Read(ref _inFlight) + 1 + (0.25 * (reported?.EmbeddingQueueDepth ?? 0))) * Math.Max(0.5, Volatile.Read(ref _latencyMs));
    }
}
