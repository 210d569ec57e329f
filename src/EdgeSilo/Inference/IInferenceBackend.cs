using Outpost.Grains.EdgeDevices;

namespace Outpost.EdgeSilo.Inference;

/// <summary>Something on the device that runs models: what it serves is what the device advertises.</summary>
public interface IInferenceBackend
{
    /// <summary>The backend's name, as it appears in <see cref="DeviceModel.Backend"/>, e.g. <c>onnx-cpu</c>.</summary>
    string Name { get; }

    /// <summary>The models this backend serves now.</summary>
    IReadOnlyList<DeviceModel> Models { get; }
}
