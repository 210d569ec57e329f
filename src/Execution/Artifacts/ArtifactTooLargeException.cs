namespace Outpost.Execution.Artifacts;

/// <summary>An upload went past the size an artifact may have, or past what its tenant may store; nothing was stored.</summary>
public sealed class ArtifactTooLargeException : Exception
{
    public ArtifactTooLargeException()
    {
    }

    public ArtifactTooLargeException(string message)
        : base(message)
    {
    }

    public ArtifactTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The limit, in bytes, that was reached.</summary>
    public long Limit { get; init; }
}
