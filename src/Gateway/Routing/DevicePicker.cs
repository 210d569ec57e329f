using System.Collections.Concurrent;
using Outpost.Grains.EdgeDevices;

namespace Outpost.Gateway.Routing;

/// <summary>
/// Router scoring: among the online devices not yet tried, the one with the lowest expected wait
/// (<see cref="DeviceLoadTracker.Score"/>); a device penalized after a failure only when no healthy one is left; ties
/// broken at random, so that equal devices share the load.
/// </summary>
public sealed class DevicePicker(Func<int, int>? random = null)
{
    private readonly ConcurrentDictionary<string, DeviceLoadTracker> _trackers = new(StringComparer.Ordinal);
    private readonly Func<int, int> _random = random ?? Random.Shared.Next;

    /// <summary>The tracker of one device's load, created at first sight.</summary>
    public DeviceLoadTracker Tracker(string deviceId) => _trackers.GetOrAdd(deviceId, _ => new DeviceLoadTracker());

    /// <summary>The device to try next, or null when every online device has been tried.</summary>
    public string? Pick(IReadOnlyList<DeviceSummary> serving, IReadOnlySet<string> tried, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(serving);
        ArgumentNullException.ThrowIfNull(tried);
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

            var tracker = Tracker(id);
            var penalized = tracker.IsPenalized(now);
            var score = tracker.Score(device.Record.Load);
            var better = (bestPenalized && !penalized)
                || (penalized == bestPenalized && (score < bestScore || (score == bestScore && _random(2) == 0)));
            if (best is null || better)
            {
                (best, bestScore, bestPenalized) = (id, score, penalized);
            }
        }

        return best;
    }
}
