using Orleans.Serialization.Invocation;
using Outpost.Grains.EdgeDevices;
using Outpost.Grains.TaskRuns;

namespace Outpost.Grains.EdgeCalls;

/// <summary>
/// What an edge device may ask of the control plane: only what a device needs for itself. Today that is reporting its
/// own record (registration and heartbeat) to the directory, reading the published task-signing keys, and the device's
/// side of a task run in its own name (the run itself checks that it was dispatched to that device); everything else is
/// refused.
/// </summary>
internal static class EdgeCallPolicy
{
    /// <summary>Null when <paramref name="device"/> may make this call; otherwise why not.</summary>
    public static string? Check(System.Reflection.MethodInfo method, IInvokable request, string device)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(request);
        if (method.DeclaringType == typeof(IDeviceDirectoryGrain) && method.Name == nameof(IDeviceDirectoryGrain.ReportAsync))
        {
            return request.GetArgumentCount() == 1 && request.GetArgument(0) is DeviceRecord record
                ? string.Equals(record.Registration.DeviceId, device, StringComparison.Ordinal)
                    ? null
                    : $"it reported device '{record.Registration.DeviceId}', not itself"
                : "the report carries no device record";
        }

        if (method.DeclaringType == typeof(ITaskKeyRingGrain))
        {
            return null;
        }

        if (method.DeclaringType == typeof(ITaskRunExecutionGrain))
        {
            return request.GetArgumentCount() > 0 && request.GetArgument(0) is string named && string.Equals(named, device, StringComparison.Ordinal)
                ? null
                : "it spoke for another device";
        }

        return "edge devices may only report their own record, read the task-signing keys and report their own task runs";
    }
}
