namespace Outpost.Grains.TenantQuotas;

/// <summary>
/// Requests and tokens granted in the last 60 seconds, for the per-minute limits. Kept in memory only: an activation
/// that starts after a silo restart (or a deactivation) has forgotten the last minute, which can let up to one extra
/// minute's allowance through. Money budgets are persisted and exact; rate limits are a protection against bursts.
/// </summary>
internal sealed class RateWindow
{
    public static readonly TimeSpan Length = TimeSpan.FromSeconds(60);

    private readonly List<Entry> _entries = [];
    private long _tokens;

    /// <summary>How long until one more request fits under <paramref name="limit"/>; null when it fits now.</summary>
    public TimeSpan? RequestWait(int limit, DateTimeOffset now)
    {
        Trim(now);
        if (limit <= 0 || _entries.Count < limit)
        {
            return null;
        }

        // The oldest (count - limit + 1) entries must leave the window first.
        return Wait(_entries[_entries.Count - limit].At, now);
    }

    /// <summary>
    /// How long until <paramref name="tokens"/> more fit under <paramref name="limit"/>; null when they fit now and
    /// <see cref="TimeSpan.MaxValue"/> when they never will.
    /// </summary>
    public TimeSpan? TokenWait(long limit, long tokens, DateTimeOffset now)
    {
        Trim(now);
        if (limit <= 0 || _tokens + tokens <= limit)
        {
            return null;
        }

        if (tokens > limit)
        {
            return TimeSpan.MaxValue;
        }

        var inWindow = _tokens;
        foreach (var entry in _entries)
        {
            inWindow -= entry.Tokens;
            if (inWindow + tokens <= limit)
            {
                return Wait(entry.At, now);
            }
        }

        return Length;
    }

    public void Add(string reservationId, long tokens, DateTimeOffset now)
    {
        _entries.Add(new Entry(reservationId, now, tokens));
        _tokens += tokens;
    }

    /// <summary>Replaces a reservation's worst-case tokens with what it used, once it is settled.</summary>
    public void Settle(string reservationId, long tokens)
    {
        var index = _entries.FindIndex(e => e.ReservationId == reservationId);
        if (index < 0)
        {
            return;
        }

        var entry = _entries[index];
        _tokens += tokens - entry.Tokens;
        _entries[index] = entry with { Tokens = tokens };
    }

    private void Trim(DateTimeOffset now)
    {
        var leaving = 0;
        while (leaving < _entries.Count && _entries[leaving].At + Length <= now)
        {
            _tokens -= _entries[leaving].Tokens;
            leaving++;
        }

        _entries.RemoveRange(0, leaving);
    }

    private static TimeSpan Wait(DateTimeOffset at, DateTimeOffset now)
    {
        var wait = at + Length - now;
        return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
    }

    private readonly record struct Entry(string ReservationId, DateTimeOffset At, long Tokens);
}
