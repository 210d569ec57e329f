namespace Outpost.Grains.EdgeDevices;

/// <summary>The kinds of work a device can advertise.</summary>
public static class DeviceTasks
{
    /// <summary>Sentence embeddings.</summary>
    public const string Embed = "embed";

    /// <summary>Text generation with a small model.</summary>
    public const string Generate = "generate";

    /// <summary>Signed task manifests in the sandbox.</summary>
    public const string Execute = "execute";
}
