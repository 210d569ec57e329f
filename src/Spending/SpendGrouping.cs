namespace Outpost.Spending;

/// <summary>How <see cref="SpendLedger.QueryAsync"/> groups ledger rows.</summary>
public enum SpendGrouping
{
    /// <summary>By OAuth client id.</summary>
    Client = 0,

    /// <summary>By task kind.</summary>
    Kind = 1,

    /// <summary>By target (<c>edge:dev-pi-1</c>, <c>cloud:claude-sonnet-4-5</c>, ...).</summary>
    Target = 2,

    /// <summary>By UTC calendar day of the commit, keyed <c>yyyy-MM-dd</c>.</summary>
    Day = 3,
}
