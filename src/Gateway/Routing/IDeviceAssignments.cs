namespace Outpost.Gateway.Routing;

/// <summary>Which tenant each device is assigned to; a device with no assignment is shared by every tenant.</summary>
public interface IDeviceAssignments
{
    /// <summary>Device id to tenant id, for the devices that are assigned to one tenant.</summary>
    Task<IReadOnlyDictionary<string, string>> LoadAsync(CancellationToken cancellationToken);
}
