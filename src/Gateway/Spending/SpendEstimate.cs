namespace Outpost.Gateway.Spending;

/// <summary>The worst case of one request, reserved before it starts.</summary>
/// <param name="Kind">The task kind: <c>embed</c>, <c>generate</c>, <c>messages</c>.</param>
/// <param name="Target">Where it will run: <c>edge</c> (device chosen later) or <c>cloud:&lt;model&gt;</c>.</param>
/// <param name="MaxCostMicros">The most it can cost.</param>
/// <param name="MaxTokens">The most tokens it can use, for tokens-per-minute limits.</param>
public sealed record SpendEstimate(string Kind, string Target, long MaxCostMicros, int MaxTokens)
{
    public bool IsCloud => Target.StartsWith("cloud:", StringComparison.Ordinal);
}
