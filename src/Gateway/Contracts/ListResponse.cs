using System.Text.Json.Serialization;

namespace Outpost.Gateway.Contracts;

/// <summary>A list, in the envelope OpenAI-style clients expect (<c>{"object":"list","data":[...]}</c>).</summary>
public sealed record ListResponse<T>(IReadOnlyList<T> Data)
{
    [JsonPropertyName("object")]
    public string Kind => "list";
}
