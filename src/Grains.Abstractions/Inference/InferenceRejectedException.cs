namespace Outpost.Grains.Inference;

/// <summary>
/// A device refused a request without running it: its queue is full, it does not serve the model, or an input is
/// invalid. <see cref="Reason"/> says which; the gateway maps each to its HTTP status.
/// </summary>
[GenerateSerializer, Alias("outpost.InferenceRejectedException")]
public sealed class InferenceRejectedException : Exception
{
    public InferenceRejectedException()
    {
    }

    public InferenceRejectedException(string message)
        : base(message)
    {
    }

    public InferenceRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public InferenceRejectedException(InferenceRejection reason, string message, TimeSpan? retryAfter = null)
        : base(message)
    {
        Reason = reason;
        RetryAfter = retryAfter;
    }

    [Id(0)]
    public InferenceRejection Reason { get; init; }

    /// <summary>For <see cref="InferenceRejection.QueueFull"/>: when trying again is likely to succeed.</summary>
    [Id(1)]
    public TimeSpan? RetryAfter { get; init; }
}
