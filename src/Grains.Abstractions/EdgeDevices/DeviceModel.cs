namespace Outpost.Grains.EdgeDevices;

/// <summary>A model a device can run, and what kind of work it serves.</summary>
/// <param name="Name">The name clients ask for, e.g. <c>all-MiniLM-L6-v2</c>.</param>
/// <param name="Task">The kind of work: <see cref="DeviceTasks.Embed"/> or <see cref="DeviceTasks.Generate"/>.</param>
/// <param name="Backend">The backend that runs it on the device, e.g. <c>onnx-cpu</c> or <c>hailo-ollama</c>.</param>
[GenerateSerializer, Immutable, Alias("outpost.DeviceModel")]
public sealed record DeviceModel(
    [property: Id(0)] string Name,
    [property: Id(1)] string Task,
    [property: Id(2)] string Backend);
