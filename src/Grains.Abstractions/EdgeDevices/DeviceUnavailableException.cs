namespace Outpost.Grains.EdgeDevices;

/// <summary>Thrown when a device's grain is needed but no live edge silo advertises that device.</summary>
[GenerateSerializer, Alias("outpost.DeviceUnavailableException")]
public sealed class DeviceUnavailableException : Exception
{
    public DeviceUnavailableException()
    {
    }

    public DeviceUnavailableException(string message)
        : base(message)
    {
    }

    public DeviceUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for <paramref name="deviceId"/> with a message an operator can act on.</summary>
    public static DeviceUnavailableException For(string deviceId) =>
        new($"Edge device '{deviceId}' has no live edge silo: start an EdgeSilo with Edge:DeviceId={deviceId}, or wait for it to rejoin the cluster.")
        {
            DeviceId = deviceId,
        };

    /// <summary>The device that could not be reached.</summary>
    [Id(0)]
    public string? DeviceId { get; init; }
}
