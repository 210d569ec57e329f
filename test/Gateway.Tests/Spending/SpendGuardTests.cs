using Outpost.Gateway.Spending;
using Xunit;

namespace Outpost.Gateway.Tests.Spending;

/// <summary>How long a reservation holds budget: it must outlive any request it covers.</summary>
public sealed class SpendGuardTests
{
    [Theory]
    [InlineData("00:00:05", 15)]
    [InlineData("00:02:00", 15)]
    [InlineData("00:20:00", 25)]
    [InlineData("01:00:00", 65)]
    public void ReservationTtl_OutlivesTheRequestTimeout(string requestTimeout, int minutes)
    {
        var ttl = SpendGuard.ReservationTtl(TimeSpan.Parse(requestTimeout, System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(TimeSpan.FromMinutes(minutes), ttl);
    }
}
