namespace Outpost.Grains.TenantQuotas;

/// <summary>Where budget periods begin and end, in UTC.</summary>
internal static class BudgetPeriods
{
    /// <summary>The period containing <paramref name="now"/>; a tenant without limits is counted monthly from midnight.</summary>
    public static (DateTimeOffset Start, DateTimeOffset End) Containing(TenantLimits? limits, DateTimeOffset now)
    {
        var period = limits?.Period ?? BudgetPeriod.Monthly;
        var resetAt = limits?.ResetAtUtc ?? TimeSpan.Zero;
        var utc = now.ToUniversalTime();
        if (period == BudgetPeriod.Daily)
        {
            var start = new DateTimeOffset(utc.Year, utc.Month, utc.Day, 0, 0, 0, TimeSpan.Zero) + resetAt;
            if (start > utc)
            {
                start = start.AddDays(-1);
            }

            return (start, start.AddDays(1));
        }

        var monthStart = new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero);
        if (monthStart + resetAt > utc)
        {
            monthStart = monthStart.AddMonths(-1);
        }

        return (monthStart + resetAt, monthStart.AddMonths(1) + resetAt);
    }
}
