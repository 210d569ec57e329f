namespace Outpost.Grains.Inference;

/// <summary>Why a device refused a request.</summary>
public enum InferenceRejection
{
    /// <summary>The device's queue for that backend is full; try another device or later.</summary>
    QueueFull = 0,

    /// <summary>The device does not serve the requested model.</summary>
    UnknownModel = 1,

    /// <summary>An input is longer than the model's window.</summary>
    InputTooLong = 2,

    /// <summary>An input is empty or otherwise unusable.</summary>
    InvalidInput = 3,
}
