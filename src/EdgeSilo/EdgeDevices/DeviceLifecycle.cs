using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;
using Outpost.EdgeSilo.Inference;
using Outpost.EdgeSilo.Tasks;
using Outpost.Grains.EdgeDevices;

namespace Outpost.EdgeSilo.EdgeDevices;

/// <summary>
/// Registers the device once its silo is active, then keeps its heartbeat going until the silo stops. The first
/// attempts can race the cluster learning this silo's metadata, so registration retries instead of failing the silo.
/// </summary>
internal sealed partial class DeviceLifecycle(
    IGrainFactory grains,
    DeviceInference inference,
    TaskExecutor executor,
    IOptions<EdgeOptions> options,
    TimeProvider time,
    ILogger<DeviceLifecycle> logger) : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(DeviceLifecycle), ServiceLifecycleStage.Active, OnStartAsync, OnStopAsync);

    public void Dispose() => _stopping.Dispose();

    private Task OnStartAsync(CancellationToken cancellationToken)
    {
        executor.SweepLeftovers();
        _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task OnStopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_loop is not null)
        {
            await _loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        var edge = options.Value;
        var device = grains.GetGrain<IEdgeDeviceGrain>(edge.DeviceId);
        var registered = false;
        var delay = TimeSpan.FromMilliseconds(200);
        var modelsRefreshedAt = DateTimeOffset.MinValue;
        IReadOnlyList<DeviceModel> advertised = [];
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                // A model pulled onto (or removed from) the HAT's server changes what the device can be asked for.
                if (time.GetUtcNow() - modelsRefreshedAt >= edge.ModelRefreshInterval)
                {
                    await RefreshModelsAsync(stopping);
                    modelsRefreshedAt = time.GetUtcNow();
                    registered &= inference.Models.SequenceEqual(advertised);
                }

                if (!registered)
                {
                    advertised = inference.Models;
                    await device.RegisterAsync(CreateRegistration(edge, advertised, executor));
                    registered = true;
                    LogRegistered(logger, edge.DeviceId, advertised.Count);
                }
                else
                {
                    await device.HeartbeatAsync();
                }

                delay = edge.HeartbeatInterval;
            }
            catch (Exception ex) when (!stopping.IsCancellationRequested)
            {
                LogReportFailed(logger, ex, edge.DeviceId);
                delay = registered ? edge.HeartbeatInterval : TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }

            try
            {
                await Task.Delay(delay, time, stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task RefreshModelsAsync(CancellationToken stopping)
    {
        foreach (var queue in inference.GenerationQueues)
        {
            try
            {
                await queue.Backend.RefreshModelsAsync(stopping);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException && !stopping.IsCancellationRequested)
            {
                LogModelRefreshFailed(logger, ex, queue.Backend.Name);
            }
        }
    }

    private static DeviceRegistration CreateRegistration(EdgeOptions edge, IReadOnlyList<DeviceModel> models, TaskExecutor executor)
    {
        var version = typeof(DeviceLifecycle).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        // What the hardware is, so operators and the router can tell a Pi from a workstation, plus configured tags.
        string[] hardware =
        [
            $"arch:{RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant()}",
            $"cpus:{Environment.ProcessorCount}",
            $"memory-mb:{GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024 * 1024)}",
        ];
        // Execution and the sandbox caps this machine enforces, so the router and operators know what a task gets here.
        var capabilities = hardware.Concat(edge.Capabilities).Concat(executor.Capabilities).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return new DeviceRegistration(edge.DeviceId, version, capabilities, models, Environment.MachineName, executor.PublicKey);
    }

    [LoggerMessage(EventId = 1, EventName = "DeviceRegistered", Level = LogLevel.Information, Message = "Device {DeviceId} registered with the control plane, serving {ModelCount} models")]
    private static partial void LogRegistered(ILogger logger, string deviceId, int modelCount);

    [LoggerMessage(EventId = 3, EventName = "ModelRefreshFailed", Level = LogLevel.Warning, Message = "Could not list the models of backend {Backend}; keeping the previous list")]
    private static partial void LogModelRefreshFailed(ILogger logger, Exception exception, string backend);

    [LoggerMessage(EventId = 2, EventName = "DeviceReportFailed", Level = LogLevel.Warning, Message = "Device {DeviceId} could not report to the control plane; retrying")]
    private static partial void LogReportFailed(ILogger logger, Exception exception, string deviceId);
}
