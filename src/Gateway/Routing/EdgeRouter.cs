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
    IOptions<RoutingOptions> options,
    TimeProvider time,
    ILogger<EdgeRouter> logger)
{
    // How long to wait before the one more round over the devices when every one of them failed.
    private static readonly TimeSpan SecondPassDelay = TimeSpan.FromMilliseconds(250);

    private readonly DevicePicker _picker = new();

    public Task<EmbeddingResult> EmbedAsync(string tenant, EmbeddingRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RouteAsync(tenant, request.Model, DeviceTasks.Embed, (device, token) => device.EmbedAsync(request, token), cancellationToken);
    }

    public Task<GenerationResult> GenerateAsync(string tenant, GenerationRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        request = request with { Tenant = tenant };
        return RouteAsync(tenant, request.Model, DeviceTasks.Generate, (device, token) => device.GenerateAsync(request, token), cancellationToken);
    }

    /// <summary>Streams a completion from the chosen device; <paramref name="onDevice"/> learns which before the first chunk.</summary>
    public async IAsyncEnumerable<GenerationChunk> GenerateStreamAsync(
        string tenant, GenerationRequest request, Action<string> onDevice, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(onDevice);
        request = request with { Tenant = tenant };

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

    /// <summary>Finds the devices that serve the model, then tries them best first (<see cref="DevicePicker"/>) until one answers.</summary>
    private async Task<T> RouteAsync<T>(
        string tenant, string model, string task, Func<IEdgeDeviceGrain, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        var serving = await ServingAsync(tenant, model, task, cancellationToken);
        var round = new RoutingRound();
        for (var pass = 0; pass < 2; pass++)
        {
            if (pass == 1)
            {
                // Every device failed, none was merely busy: a cluster change in flight (a silo dying, a manifest being
                // refreshed) can fail calls for a moment. One more round on a fresh device list before giving up.
                if (round.Busy > 0 || round.Failures.Count == 0)
                {
                    break;
                }

                await Task.Delay(SecondPassDelay, cancellationToken);
                serving = AvailableTo(await catalog.ReloadAsync(cancellationToken), tenant).Where(d => Serves(d, model, task)).ToList();
                round.Tried.Clear();
            }

            while (_picker.Pick(serving, round.Tried, time.GetUtcNow()) is { } deviceId)
            {
                round.Tried.Add(deviceId);
                var (succeeded, result) = await CallAsync(deviceId, call, round, cancellationToken);
                if (succeeded)
                {
                    return result!;
                }
            }
        }

        throw Exhausted(model, round);
    }

    /// <summary>The tenant's online and offline devices that serve the model, re-read once when none does; 404 when still none.</summary>
    private async Task<List<DeviceSummary>> ServingAsync(string tenant, string model, string task, CancellationToken cancellationToken)
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

        return serving.Count > 0
            ? serving
            : throw new ProblemException(
                StatusCodes.Status404NotFound,
                "model-not-found",
                "Model not found",
                $"No edge device serves {task} model '{model}'. Models available: {Available(devices, task)}.");
    }

    /// <summary>One call to one device: its result, or what the failure means for the round (<see cref="Classify"/>).</summary>
    private async Task<(bool Succeeded, T? Result)> CallAsync<T>(
        string deviceId, Func<IEdgeDeviceGrain, CancellationToken, Task<T>> call, RoutingRound round, CancellationToken cancellationToken)
    {
        if (Resolve(deviceId) is not { } device)
        {
            round.Failures.Add($"{deviceId}: not yet known to this gateway");
            return (false, default);
        }

        var tracker = _picker.Tracker(deviceId);
        tracker.Begin();
        var started = Stopwatch.GetTimestamp();
        using var callToken = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, catalog.OfflineToken(deviceId));
        try
        {
            var result = await call(device, callToken.Token);
            tracker.Succeeded(Stopwatch.GetElapsedTime(started));
            return (true, result);
        }
        catch (Exception ex) when (Classify(ex, cancellationToken) is { } outcome)
        {
            switch (outcome)
            {
                case AttemptFailure.Refused:
                    throw ProblemException.BadRequest(ex.Message);
                case AttemptFailure.Busy:
                    var retryAfter = ((InferenceRejectedException)ex).RetryAfter;
                    round.Busy++;
                    round.RetryAfter = round.RetryAfter is null || retryAfter < round.RetryAfter ? retryAfter : round.RetryAfter;
                    LogDeviceBusy(logger, deviceId);
                    break;
                case AttemptFailure.Stale:
                    // The catalog was stale: the device dropped the model since it last registered.
                    catalog.RequestRefresh();
                    LogDeviceSkipped(logger, ex, deviceId);
                    break;
                default:
                    round.Failures.Add($"{deviceId}: {Describe(ex)}");
                    tracker.Penalize(time.GetUtcNow() + options.Value.FailurePenalty);
                    catalog.RequestRefresh();
                    LogDeviceSkipped(logger, ex, deviceId);
                    break;
            }

            return (false, default);
        }
        finally
        {
            tracker.End();
        }
    }

    /// <summary>
    /// What a device's failure means: busy (try another, and say when to retry), stale catalog (try another), or
    /// unavailable (penalize it, try another); null lets the exception through. A rejection of the request itself
    /// (not the device) is the caller's mistake, a 400. Never throws: it runs in an exception filter.
    /// </summary>
    private static AttemptFailure? Classify(Exception ex, CancellationToken cancellationToken) => ex switch
    {
        InferenceRejectedException { Reason: InferenceRejection.QueueFull } => AttemptFailure.Busy,
        InferenceRejectedException { Reason: InferenceRejection.UnknownModel } => AttemptFailure.Stale,
        InferenceRejectedException => AttemptFailure.Refused,
        _ when (IsUnavailable(ex) || ex is OperationCanceledException) && !cancellationToken.IsCancellationRequested => AttemptFailure.Unavailable,
        _ => null,
    };

    /// <summary>The 503 when no device answered: all busy (with the soonest Retry-After), or none could.</summary>
    private ProblemException Exhausted(string model, RoutingRound round) =>
        round.Busy > 0
            ? new ProblemException(
                StatusCodes.Status503ServiceUnavailable,
                "devices-busy",
                "All devices busy",
                $"Every edge device serving '{model}' has a full queue; retry later.",
                round.RetryAfter ?? options.Value.DefaultRetryAfter)
            : new ProblemException(
                StatusCodes.Status503ServiceUnavailable,
                "no-device-available",
                "No device available",
                $"No online edge device could serve '{model}' ({round.Failures.Count} attempts{(round.Failures.Count > 0 ? ": " + string.Join("; ", round.Failures) : "")}).",
                options.Value.DefaultRetryAfter);

    // The device's grain, or null while the gateway's manifest does not know its silo yet (DeviceCatalog.TryGetGrain):
    // the caller then tries another device, and at worst answers 503 with Retry-After instead of failing the request.
    private IEdgeDeviceGrain? Resolve(string deviceId)
    {
        if (catalog.TryGetGrain(deviceId) is { } device)
        {
            return device;
        }

        catalog.RequestRefresh();
        LogDeviceNotYetKnown(logger, deviceId);
        return null;
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

    [LoggerMessage(EventId = 32, EventName = "DeviceNotYetKnown", Level = LogLevel.Warning, Message = "Device {DeviceId} is not yet in this gateway's cluster manifest; trying another")]
    private static partial void LogDeviceNotYetKnown(ILogger logger, string deviceId);

    [LoggerMessage(EventId = 31, EventName = "DeviceSkipped", Level = LogLevel.Warning, Message = "Device {DeviceId} failed a request; trying another")]
    private static partial void LogDeviceSkipped(ILogger logger, Exception exception, string deviceId);

    private enum AttemptFailure
    {
        Refused,
        Busy,
        Stale,
        Unavailable,
    }

    /// <summary>What one request's tries have found so far.</summary>
    private sealed class RoutingRound
    {
        public HashSet<string> Tried { get; } = new(StringComparer.Ordinal);

        public List<string> Failures { get; } = [];

        public int Busy { get; set; }

        public TimeSpan? RetryAfter { get; set; }
    }
}
