namespace Outpost.Gateway.Contracts;

/// <summary>One vector; <see cref="Embedding"/> is a float array or a base64 string, per the request's encoding.</summary>
public sealed record EmbeddingData(int Index, object Embedding)
{
    [System.Text.Json.Serialization.JsonPropertyName("object")]
    public string Kind => "embedding";
}
