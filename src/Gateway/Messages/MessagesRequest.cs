using Outpost.Gateway.Contracts;
using System.Text;
using System.Text.Json;
using Outpost.Grains.Inference;

namespace Outpost.Gateway.Messages;

/// <summary>
/// A validated Anthropic Messages request. Only text content is accepted (edge models read text only); the original
/// JSON of the conversation is kept so that the cloud upstream receives it as the caller wrote it.
/// </summary>
public sealed record MessagesRequest(
    string Model,
    int MaxTokens,
    IReadOnlyList<ChatMessage> Messages,
    string? System,
    bool Stream,
    double? Temperature,
    IReadOnlyList<string>? StopSequences,
    JsonElement RawMessages,
    JsonElement? RawSystem)
{
    /// <summary>The most tokens a caller may ask for.</summary>
    public const int MaxTokensLimit = 128_000;

    /// <summary>UTF-8 bytes of every text: an upper bound of the prompt's tokens, for worst-case reservations.</summary>
    public int PromptBytes => Encoding.UTF8.GetByteCount(System ?? "") + Messages.Sum(m => Encoding.UTF8.GetByteCount(m.Content));

    /// <summary>The conversation for an edge model, the system prompt first.</summary>
    public IReadOnlyList<ChatMessage> EdgeMessages => System is { Length: > 0 } system ? [new ChatMessage("system", system), .. Messages] : Messages;

    public static MessagesRequest Parse(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw MessagesApiException.Invalid("The request body must be a JSON object.");
        }

        var model = body.TryGetProperty("model", out var modelValue) && modelValue.ValueKind == JsonValueKind.String
            ? String(modelValue, "model")
            : throw MessagesApiException.Invalid("model: Field required (a string).");
        if (model.Length == 0)
        {
            throw MessagesApiException.Invalid("model: must not be empty.");
        }

        if (!body.TryGetProperty("max_tokens", out var maxValue) || maxValue.ValueKind != JsonValueKind.Number)
        {
            throw MessagesApiException.Invalid("max_tokens: Field required (an integer).");
        }

        if (!maxValue.TryGetInt32(out var maxTokens) || maxTokens < 1 || maxTokens > MaxTokensLimit)
        {
            throw MessagesApiException.Invalid($"max_tokens: must be an integer from 1 to {MaxTokensLimit}.");
        }

        var stream = Optional(body, "stream", JsonValueKind.True, JsonValueKind.False) is { } streamValue && streamValue.GetBoolean();
        double? temperature = null;
        if (Optional(body, "temperature", JsonValueKind.Number) is { } temperatureValue)
        {
            temperature = temperatureValue.TryGetDouble(out var t) && t is >= 0 and <= 1
                ? t
                : throw MessagesApiException.Invalid("temperature: must be from 0 to 1.");
        }

        List<string>? stops = null;
        if (Optional(body, "stop_sequences", JsonValueKind.Array) is { } stopValue)
        {
            stops = [];
            foreach (var stop in stopValue.EnumerateArray())
            {
                stops.Add(stop.ValueKind == JsonValueKind.String && String(stop, "stop_sequences") is { Length: > 0 } s
                    ? s
                    : throw MessagesApiException.Invalid("stop_sequences: every item must be a non-empty string."));
            }
        }

        string? system = null;
        JsonElement? rawSystem = null;
        if (Optional(body, "system", JsonValueKind.String, JsonValueKind.Array) is { } systemValue)
        {
            system = Text(systemValue, "system");
            rawSystem = systemValue.Clone();
        }

        if (!body.TryGetProperty("messages", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            throw MessagesApiException.Invalid("messages: Field required (an array).");
        }

        if (list.GetArrayLength() == 0)
        {
            throw MessagesApiException.Invalid("messages: at least one message is required.");
        }

        var messages = new List<ChatMessage>();
        var index = 0;
        foreach (var message in list.EnumerateArray())
        {
            var path = $"messages.{index++}";
            if (message.ValueKind != JsonValueKind.Object)
            {
                throw MessagesApiException.Invalid($"{path}: must be an object with role and content.");
            }

            var role = message.TryGetProperty("role", out var roleValue) && roleValue.ValueKind == JsonValueKind.String ? String(roleValue, $"{path}.role") : null;
            if (role is not ("user" or "assistant"))
            {
                throw MessagesApiException.Invalid($"{path}.role: Input should be 'user' or 'assistant'.");
            }

            if (!message.TryGetProperty("content", out var content))
            {
                throw MessagesApiException.Invalid($"{path}.content: Field required.");
            }

            messages.Add(new ChatMessage(role, Text(content, $"{path}.content")));
        }

        if (messages[0].Role != "user")
        {
            throw MessagesApiException.Invalid("messages: the first message must use the 'user' role.");
        }

        return new MessagesRequest(model, maxTokens, messages, system, stream, temperature, stops, list.Clone(), rawSystem);
    }

    private static JsonElement? Optional(JsonElement body, string name, params JsonValueKind[] kinds)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return kinds.Contains(value.ValueKind)
            ? value
            : throw MessagesApiException.Invalid($"{name}: has the wrong type ({value.ValueKind.ToString().ToLowerInvariant()}).");
    }

    /// <summary>A string, or an array of text blocks joined; any other block type is refused.</summary>
    private static string Text(JsonElement content, string path)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            return String(content, path);
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            throw MessagesApiException.Invalid($"{path}: must be a string or an array of content blocks.");
        }

        var text = new StringBuilder();
        var index = 0;
        foreach (var block in content.EnumerateArray())
        {
            var type = block.ValueKind == JsonValueKind.Object && block.TryGetProperty("type", out var typeValue)
                ? typeValue.ValueKind == JsonValueKind.String
                    ? String(typeValue, $"{path}.{index}.type")
                    : throw MessagesApiException.Invalid($"{path}.{index}.type: must be a string.")
                : null;
            if (type != "text")
            {
                throw MessagesApiException.Invalid(
                    $"{path}.{index}.type: only 'text' content blocks are supported by this gateway (got '{type ?? "none"}').");
            }

            if (!block.TryGetProperty("text", out var value) || value.ValueKind != JsonValueKind.String)
            {
                throw MessagesApiException.Invalid($"{path}.{index}.text: Field required (a string).");
            }

            text.Append(String(value, $"{path}.{index}.text"));
            index++;
        }

        return text.ToString();
    }

    /// <summary>The text of a JSON string, or an error naming <paramref name="path"/> when it does not decode.</summary>
    private static string String(JsonElement value, string path) =>
        JsonFields.TryGetText(value, out var text) ? text : throw MessagesApiException.Invalid($"{path}: {JsonFields.UndecodableText}");
}
