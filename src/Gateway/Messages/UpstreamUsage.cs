using System.Text.Json;

namespace Outpost.Gateway.Messages;

/// <summary>Tokens a model reported, as the ledger charges them: cache writes and reads count as input.</summary>
public readonly record struct UpstreamUsage(int InputTokens, int OutputTokens)
{
    /// <summary>Reads an Anthropic <c>usage</c> object; absent fields keep <paramref name="previous"/>'s values.</summary>
    public static UpstreamUsage From(JsonElement usage, UpstreamUsage previous = default)
    {
        if (usage.ValueKind != JsonValueKind.Object)
        {
            return previous;
        }

        var input = previous.InputTokens;
        if (Read(usage, "input_tokens") is { } plain)
        {
            input = plain + (Read(usage, "cache_creation_input_tokens") ?? 0) + (Read(usage, "cache_read_input_tokens") ?? 0);
        }

        return new UpstreamUsage(input, Read(usage, "output_tokens") ?? previous.OutputTokens);
    }

    /// <summary>The cost in micro-dollars at per-million prices, rounded up so that nothing is under-charged.</summary>
    public long CostMicros(long inputPerMillion, long outputPerMillion) =>
        checked((InputTokens * inputPerMillion) + (OutputTokens * outputPerMillion) + 999_999) / 1_000_000;

    private static int? Read(JsonElement usage, string name) =>
        usage.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) ? n : null;
}
