namespace Outpost.Gateway.Contracts;

/// <summary>The answer of <c>POST /v1/embeddings</c>, shaped as OpenAI's.</summary>
public sealed record EmbeddingsResponse(IReadOnlyList<EmbeddingData> Data, string Model, EmbeddingsUsage Usage)
{
    [System.Text.Json.Serialization.JsonPropertyName("object")]
    public string Kind => "list";
}
