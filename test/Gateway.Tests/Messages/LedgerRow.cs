namespace Outpost.Gateway.Tests.Messages;

/// <summary>One committed charge in <c>outpost_spend_ledger</c>.</summary>
public sealed record LedgerRow(string Kind, string Target, long CostMicros, int InputTokens, int OutputTokens);
