using System.Text;
using System.Text.Json;

namespace Outpost.Gateway.Messages;

/// <summary>
/// Counts the output a cloud stream has delivered so far, from its <c>content_block_delta</c> events, for when the
/// stream ends before the upstream reports its own count (<c>message_delta</c>). Anthropic bills tokens, not bytes, and
/// a stream does not say how many tokens a delta held, so each delta counts at least one token and one per 4 bytes of
/// UTF-8 (text, tool input or thinking) beyond that: the rough size of a token in English text, rounded up, so that a
/// cut stream is not charged less than it cost.
/// </summary>
internal sealed class ProducedOutput
{
    private const int BytesPerToken = 4;

    public int Tokens { get; private set; }

    public void Add(JsonElement deltaEvent)
    {
        if (!deltaEvent.TryGetProperty("delta", out var delta) || delta.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        var bytes = 0;
        foreach (var field in new[] { "text", "partial_json", "thinking" })
        {
            if (delta.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String)
            {
                bytes += Encoding.UTF8.GetByteCount(value.GetString()!);
            }
        }

        Tokens = checked(Tokens + Math.Max(1, (bytes + BytesPerToken - 1) / BytesPerToken));
    }
}
