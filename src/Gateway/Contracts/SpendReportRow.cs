
namespace Outpost.Gateway.Contracts;

public sealed record SpendReportRow(string Key, long CostMicros, long Requests, long InputTokens, long OutputTokens);
