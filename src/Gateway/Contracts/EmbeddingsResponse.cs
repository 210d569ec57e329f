namespace Outpost.Gateway.Contracts;

/// <summary>The answer of <c>POST /v1/embeddings</c>, shaped as OpenAI's.</summary>
public sealed record EmbeddingsResponse(IReadOnlyList<EmbeddingData> Data, string Model, EmbeddingsUsage Usage)
{
    [System.Text.Json.Serialization.JsonPropertyName("object")]
    public string Kind => "list";
}

/// <summary>One vector; <see cref="Embedding"/> is a float array or a base64 string, per the request's encoding.</summary>
public sealed record EmbeddingData(int Index, object Embedding)
{
    [System.Text.Json.Serialization.JsonPropertyName("object")]
    public string Kind => "embedding";
}

public sealed record EmbeddingsUsage(int PromptTokens, int TotalTokens);
