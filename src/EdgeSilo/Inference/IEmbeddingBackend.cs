namespace Outpost.EdgeSilo.Inference;

/// <summary>A sentence-embedding model. Calls to <see cref="Embed"/> come from one batching worker at a time.</summary>
public interface IEmbeddingBackend : IInferenceBackend
{
    /// <summary>The model's name, e.g. <c>all-MiniLM-L6-v2</c>.</summary>
    string Model { get; }

    /// <summary>Length of every vector.</summary>
    int Dimensions { get; }

    /// <summary>The model's window, in tokens, special tokens included.</summary>
    int MaxInputTokens { get; }

    /// <summary>Tokens the model would read for <paramref name="text"/>, special tokens included, before any truncation.</summary>
    int CountTokens(string text);

    /// <summary>
    /// Embeds a batch. Texts longer than <see cref="MaxInputTokens"/> are cut to the window (callers that must reject
    /// them check <see cref="CountTokens"/> first). Returns one L2-normalised vector per text, in order.
    /// </summary>
    float[][] Embed(IReadOnlyList<string> texts);
}
