using Outpost.EdgeSilo.EdgeDevices;
using Microsoft.Extensions.Options;
using Outpost.Grains.TaskRuns;

namespace Outpost.EdgeSilo.Tasks;

/// <summary>
/// Checks a dispatched manifest before anything of it runs: endorsed by a published task-signing key, signed by the
/// endorsed ephemeral key, for this device, not expired and not issued in the future. The published keys are fetched from
/// the control plane and cached; an unknown key id triggers one refetch (rotation), at most every few seconds.
/// </summary>
public sealed class ManifestVerifier(IGrainFactory grains, IOptions<EdgeOptions> edge, TimeProvider time) : IDisposable
{
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan CacheLifetime = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan RefetchInterval = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private Dictionary<string, byte[]> _keys = new(StringComparer.Ordinal);
    private DateTimeOffset _fetchedAt = DateTimeOffset.MinValue;

    /// <summary>The manifest when it may run here; otherwise why not.</summary>
    public async Task<(TaskManifest? Manifest, string? Refusal)> VerifyAsync(SignedManifest dispatched)
    {
        ArgumentNullException.ThrowIfNull(dispatched);
        var keys = await KeysAsync(dispatched.Endorsement?.KeyId);
        var (manifest, refusal) = TaskSignatures.VerifyManifest(dispatched, keys);
        if (manifest is null)
        {
            return (null, refusal);
        }

        var now = time.GetUtcNow();
        if (!string.Equals(manifest.Device, edge.Value.DeviceId, StringComparison.Ordinal))
        {
            return (null, $"the manifest is for device '{manifest.Device}', not this one ('{edge.Value.DeviceId}')");
        }

        if (now > manifest.ExpiresAt)
        {
            return (null, $"the manifest expired at {manifest.ExpiresAt:O}");
        }

        if (manifest.IssuedAt > now + ClockSkew)
        {
            return (null, $"the manifest was issued in the future ({manifest.IssuedAt:O}); check the clocks");
        }

        return manifest.Network == TaskRunSpec.NoNetwork
            ? (manifest, null)
            : (null, $"the manifest asks for network policy '{manifest.Network}', which this device does not provide");
    }

    public void Dispose() => _gate.Dispose();

    private async Task<IReadOnlyDictionary<string, byte[]>> KeysAsync(string? wanted)
    {
        var now = time.GetUtcNow();
        var stale = now - _fetchedAt > CacheLifetime || (wanted is not null && !_keys.ContainsKey(wanted) && now - _fetchedAt > RefetchInterval);
        if (!stale)
        {
            return _keys;
        }

        await _gate.WaitAsync();
        try
        {
            if (now - _fetchedAt > RefetchInterval)
            {
                var published = await grains.GetGrain<ITaskKeyRingGrain>(ITaskKeyRingGrain.Key).ListAsync();
                _keys = published.ToDictionary(key => key.KeyId, key => key.PublicKey, StringComparer.Ordinal);
                _fetchedAt = now;
            }

            return _keys;
        }
        finally
        {
            _gate.Release();
        }
    }
}
