using Outpost.Grains.TenantQuotas;
using Xunit;

namespace Outpost.Grains.Tests.TenantQuotas;

/// <summary>Where budget periods begin and end (UTC), with and without a reset time.</summary>
public sealed class BudgetPeriodsTests
{
    [Theory]
    [InlineData("2026-12-03T15:00:00Z", null, "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z")] // no limits: monthly from midnight
    [InlineData("2026-12-31T23:59:59Z", "00:00:00", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z")]
    [InlineData("2026-12-01T03:00:00Z", "06:00:00", "2026-11-01T06:00:00Z", "2026-12-01T06:00:00Z")] // before this month's reset
    [InlineData("2026-12-01T06:00:00Z", "06:00:00", "2026-12-01T06:00:00Z", "2027-01-01T06:00:00Z")] // at the reset: the new period
    [InlineData("2027-03-15T10:00:00+05:00", "00:00:00", "2027-03-01T00:00:00Z", "2027-04-01T00:00:00Z")] // an offset is read as UTC
    public void Monthly(string now, string? resetAt, string start, string end)
    {
        var limits = resetAt is null ? null : new TenantLimits(1, BudgetPeriod.Monthly, 0, 0, ResetAtUtc: TimeSpan.Parse(resetAt, System.Globalization.CultureInfo.InvariantCulture));

        var period = BudgetPeriods.Containing(limits, DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal((DateTimeOffset.Parse(start, System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.Parse(end, System.Globalization.CultureInfo.InvariantCulture)), period);
    }

    [Theory]
    [InlineData("2026-12-03T15:00:00Z", "00:00:00", "2026-12-03T00:00:00Z", "2026-12-04T00:00:00Z")]
    [InlineData("2026-12-03T05:59:59Z", "06:00:00", "2026-12-02T06:00:00Z", "2026-12-03T06:00:00Z")]
    [InlineData("2026-12-03T06:00:00Z", "06:00:00", "2026-12-03T06:00:00Z", "2026-12-04T06:00:00Z")]
    [InlineData("2027-01-01T00:30:00Z", "01:00:00", "2026-12-31T01:00:00Z", "2027-01-01T01:00:00Z")] // across the year
    public void Daily(string now, string resetAt, string start, string end)
    {
        var limits = new TenantLimits(1, BudgetPeriod.Daily, 0, 0, ResetAtUtc: TimeSpan.Parse(resetAt, System.Globalization.CultureInfo.InvariantCulture));

        var period = BudgetPeriods.Containing(limits, DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal((DateTimeOffset.Parse(start, System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.Parse(end, System.Globalization.CultureInfo.InvariantCulture)), period);
    }
}
