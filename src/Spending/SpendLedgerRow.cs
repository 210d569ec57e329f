namespace Outpost.Spending;

/// <summary>One group of committed charges from <see cref="SpendLedger.QueryAsync"/>.</summary>
/// <param name="Key">The client id, kind, target or day (<c>yyyy-MM-dd</c>, UTC) of the group.</param>
/// <param name="CostMicros">The sum of the charges.</param>
/// <param name="Requests">How many commits.</param>
/// <param name="InputTokens">The sum of input tokens.</param>
/// <param name="OutputTokens">The sum of output tokens.</param>
public sealed record SpendLedgerRow(string Key, long CostMicros, long Requests, long InputTokens, long OutputTokens);
