using Outpost.Identity.Tenants;
using Microsoft.Extensions.Options;
using Outpost.Grains.EdgeDevices;

namespace Outpost.Gateway.Routing;

/// <summary>
/// The gateway's copy of the device directory, refreshed in the background so that routing a request costs no extra
/// call. A routing failure asks for an early refresh.
/// </summary>
public sealed partial class DeviceCatalog(
    IClusterClient cluster, DeviceAssignmentStore assignments, IOptions<RoutingOptions> options, ILogger<DeviceCatalog> logger) : BackgroundService
{
    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _refreshNow = new(0, 1);
    private volatile IReadOnlyList<DeviceSummary> _devices = [];
    private volatile IReadOnlyDictionary<string, string> _assignments = new Dictionary<string, string>();
    private readonly Dictionary<string, CancellationTokenSource> _online = new(StringComparer.Ordinal);
    private long _lastReload;

    public IReadOnlyList<DeviceSummary> Devices => _devices;

    /// <summary>Whether the device list has been loaded once since the gateway started.</summary>
    public bool IsLoaded => _loaded.Task.IsCompleted;

    /// <summary>Whether <paramref name="tenant"/> may use <paramref name="deviceId"/>: it is shared or assigned to that tenant.</summary>
    public bool IsAvailableTo(string deviceId, string tenant) =>
        !_assignments.TryGetValue(deviceId, out var owner) || string.Equals(owner, tenant, StringComparison.Ordinal);

    /// <summary>
    /// The device's grain, or null while this gateway's copy of the cluster manifest names no silo that hosts device
    /// grains: an edge silo that joined moments ago, before the next manifest refresh.
    /// </summary>
    public IEdgeDeviceGrain? TryGetGrain(string deviceId)
    {
        try
        {
            return cluster.GetGrain<IEdgeDeviceGrain>(deviceId);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>The devices, after waiting (briefly) for the first load when the gateway has just started.</summary>
    public async ValueTask<IReadOnlyList<DeviceSummary>> GetDevicesAsync(CancellationToken cancellationToken)
    {
        if (!_loaded.Task.IsCompleted)
        {
            await _loaded.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        return _devices;
    }

    /// <summary>
    /// A token cancelled when <paramref name="deviceId"/> goes offline, so calls in flight to a dead device end as soon
    /// as the cluster knows, instead of waiting out the response timeout.
    /// </summary>
    public CancellationToken OfflineToken(string deviceId)
    {
        lock (_online)
        {
            if (!_online.TryGetValue(deviceId, out var source))
            {
                source = new CancellationTokenSource();
                _online[deviceId] = source;
            }

            return source.Token;
        }
    }

    /// <summary>
    /// Reloads the device list now, at most once per quarter second, for a request that found no device: a device that
    /// registered since the last refresh is usable at once, and unknown models cannot turn into a storm of reloads.
    /// </summary>
    public async ValueTask<IReadOnlyList<DeviceSummary>> ReloadAsync(CancellationToken cancellationToken)
    {
        var now = Environment.TickCount64;
        if (now - Interlocked.Read(ref _lastReload) >= 250)
        {
            Interlocked.Exchange(ref _lastReload, now);
            await LoadAsync(cancellationToken);
        }

        return _devices;
    }

    /// <summary>Asks for a refresh before the next interval, e.g. after a device failed.</summary>
    public void RequestRefresh()
    {
        try
        {
            _refreshNow.Release();
        }
        catch (SemaphoreFullException)
        {
            // One pending request for a refresh is enough.
        }
    }

    public override void Dispose()
    {
        lock (_online)
        {
            foreach (var source in _online.Values)
            {
                source.Dispose();
            }
        }

        _refreshNow.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await LoadAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogRefreshFailed(logger, ex);
            }

            try
            {
                await _refreshNow.WaitAsync(options.Value.CatalogRefreshInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        // Assignments first: a device must never be visible before the rule that hides it from other tenants.
        _assignments = await assignments.OwnersAsync(cancellationToken);
        _devices = await cluster.GetGrain<IDeviceDirectoryGrain>(IDeviceDirectoryGrain.Key).ListAsync();
        _loaded.TrySetResult();
        CancelOffline(_devices);
    }

    private void CancelOffline(IReadOnlyList<DeviceSummary> devices)
    {
        var online = devices.Where(d => d.Online).Select(d => d.Record.Registration.DeviceId).ToHashSet(StringComparer.Ordinal);
        List<CancellationTokenSource> gone = [];
        lock (_online)
        {
            foreach (var (deviceId, source) in _online.Where(kv => !online.Contains(kv.Key)).ToList())
            {
                _online.Remove(deviceId);
                gone.Add(source);
            }
        }

        foreach (var source in gone)
        {
            source.Cancel();
            source.Dispose();
        }
    }

    [LoggerMessage(EventId = 20, EventName = "CatalogRefreshFailed", Level = LogLevel.Warning, Message = "Could not refresh the device list; routing on the previous one")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}
