using Outpost.Grains.TenantQuotas;
using Xunit;

namespace Outpost.Grains.Tests.TenantQuotas;

/// <summary>The per-minute window of requests and tokens that the quota's rate limits read.</summary>
public sealed class RateWindowTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void RequestWait_UnderOrNoLimit_NoWait()
    {
        var window = new RateWindow();
        window.Add("a", 0, Now);

        Assert.Null(window.RequestWait(2, Now));
        Assert.Null(window.RequestWait(0, Now));
    }

    [Fact]
    public void RequestWait_AtLimit_WaitsForTheEntryThatMustLeave()
    {
        var window = new RateWindow();
        window.Add("a", 0, Now.AddSeconds(-45));
        window.Add("b", 0, Now.AddSeconds(-30));
        window.Add("c", 0, Now.AddSeconds(-10));

        // Limit 2 with 3 in the window: two must leave, the second of them ("b") in 30 s.
        Assert.Equal(TimeSpan.FromSeconds(30), window.RequestWait(2, Now));
    }

    [Fact]
    public void Entries_OlderThanTheWindow_NoLongerCount()
    {
        var window = new RateWindow();
        window.Add("old", 500, Now - RateWindow.Length);
        window.Add("new", 0, Now);

        // Only "new" is in the window: one request of two allowed, none of its 500 tokens.
        Assert.Null(window.RequestWait(2, Now));
        Assert.Equal(TimeSpan.FromSeconds(60), window.RequestWait(1, Now));
        Assert.Null(window.TokenWait(100, 100, Now));
    }

    [Fact]
    public void TokenWait_OverLimit_WaitsUntilEnoughTokensLeave()
    {
        var window = new RateWindow();
        window.Add("a", 60, Now.AddSeconds(-50));
        window.Add("b", 30, Now.AddSeconds(-20));

        Assert.Null(window.TokenWait(100, 10, Now));
        Assert.Equal(TimeSpan.FromSeconds(10), window.TokenWait(100, 40, Now)); // "a" leaves in 10 s: 30 + 40 fit
        Assert.Equal(TimeSpan.FromSeconds(40), window.TokenWait(100, 80, Now)); // both must leave
    }

    [Fact]
    public void TokenWait_MoreThanTheLimit_Never()
    {
        Assert.Equal(TimeSpan.MaxValue, new RateWindow().TokenWait(100, 101, Now));
    }

    [Fact]
    public void Settle_ReplacesTheWorstCaseWithWhatWasUsed()
    {
        var window = new RateWindow();
        window.Add("a", 90, Now);
        Assert.NotNull(window.TokenWait(100, 20, Now));

        window.Settle("a", 10);

        Assert.Null(window.TokenWait(100, 20, Now));
        window.Settle("unknown", 1_000); // a reservation the window never saw changes nothing
        Assert.Null(window.TokenWait(100, 20, Now));
    }
}
