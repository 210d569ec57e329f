using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Outpost.Gateway.Errors;

namespace Outpost.Gateway.Contracts;

/// <summary>Reads loosely typed JSON (payloads, OpenAI's string-or-array inputs) with errors that name the field.</summary>
public static class JsonFields
{
    public static string RequiredString(JsonElement parent, string name, string path)
    {
        var value = OptionalString(parent, name, path);
        return string.IsNullOrWhiteSpace(value) ? throw ProblemException.BadRequest($"{path}{name} is required.") : value;
    }

    public static string? OptionalString(JsonElement parent, string name, string path) =>
        Property(parent, name) switch
        {
            null => null,
            { ValueKind: JsonValueKind.String } value => Text(value, path + name),
            _ => throw ProblemException.BadRequest($"{path}{name} must be a string."),
        };

    /// <summary>
    /// The text of a JSON string, or a 400 naming <paramref name="where"/> when it does not decode: the parser lets
    /// bytes that are not UTF-8 and <c>\u</c> escapes of unpaired surrogates through, and only reading the text finds them.
    /// </summary>
    public static string Text(JsonElement value, string where) =>
        TryGetText(value, out var text)
            ? text
            : throw ProblemException.BadRequest($"{where} {UndecodableText}");

    /// <summary>What is wrong with a string that <see cref="TryGetText"/> could not read, after the field's name.</summary>
    public const string UndecodableText = "is not valid text: it holds bytes that are not UTF-8 or an escaped unpaired surrogate.";

    /// <summary>The text of a JSON string, false when it is not a string or does not decode.</summary>
    public static bool TryGetText(JsonElement value, [NotNullWhen(true)] out string? text)
    {
        text = null;
        if (value.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        try
        {
            text = value.GetString()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    public static int? OptionalInt(JsonElement parent, string name, string path, int min, int max) =>
        Property(parent, name) switch
        {
            null => null,
            { ValueKind: JsonValueKind.Number } value when value.TryGetInt32(out var number) && number >= min && number <= max => number,
            _ => throw ProblemException.BadRequest($"{path}{name} must be a whole number from {min} to {max}."),
        };

    public static double? OptionalDouble(JsonElement parent, string name, string path, double min, double max) =>
        Property(parent, name) switch
        {
            null => null,
            { ValueKind: JsonValueKind.Number } value when value.TryGetDouble(out var number) && number >= min && number <= max => number,
            _ => throw ProblemException.BadRequest($"{path}{name} must be a number from {min} to {max}."),
        };

    /// <summary>
    /// OpenAI's <c>input</c>: one string or an array of strings, each non-empty and at most
    /// <paramref name="maxCharacters"/> long, at most <paramref name="maxInputs"/> of them.
    /// </summary>
    public static IReadOnlyList<string> Inputs(JsonElement input, string path, int maxInputs, int maxCharacters)
    {
        List<string> texts;
        switch (input.ValueKind)
        {
            case JsonValueKind.String:
                texts = [Text(input, path)];
                break;
            case JsonValueKind.Array:
                var count = input.GetArrayLength();
                if (count == 0)
                {
                    throw ProblemException.BadRequest($"{path} must not be empty.");
                }

                if (count > maxInputs)
                {
                    throw ProblemException.BadRequest($"{path} has {count} items; at most {maxInputs} are allowed per request.");
                }

                texts = new List<string>(count);
                var index = 0;
                foreach (var item in input.EnumerateArray())
                {
                    texts.Add(item.ValueKind switch
                    {
                        JsonValueKind.String => Text(item, $"{path}[{index}]"),
                        JsonValueKind.Number or JsonValueKind.Array =>
                            throw ProblemException.BadRequest($"{path}[{index}] is a token array; send text: the device tokenizes it for its own model."),
                        _ => throw ProblemException.BadRequest($"{path}[{index}] must be a string."),
                    });
                    index++;
                }

                break;
            case JsonValueKind.Undefined or JsonValueKind.Null:
                throw ProblemException.BadRequest($"{path} is required.");
            default:
                throw ProblemException.BadRequest($"{path} must be a string or an array of strings.");
        }

        for (var i = 0; i < texts.Count; i++)
        {
            var where = input.ValueKind == JsonValueKind.Array ? $"{path}[{i}]" : path;
            if (texts[i].Length == 0)
            {
                throw ProblemException.BadRequest($"{where} must not be an empty string.");
            }

            if (texts[i].Length > maxCharacters)
            {
                throw ProblemException.BadRequest($"{where} is {texts[i].Length} characters; at most {maxCharacters} are allowed.");
            }
        }

        return texts;
    }

    private static JsonElement? Property(JsonElement parent, string name) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value
            : null;
}
