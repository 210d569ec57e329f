using Outpost.Identity.Tenants;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Outpost.Gateway.Contracts;
using Outpost.Gateway.Errors;
using Outpost.Gateway.Security;
using Outpost.Grains.EdgeDevices;
using Outpost.Identity;

namespace Outpost.Gateway.Endpoints;

public static class DevicesEndpoints
{
    public static IEndpointRouteBuilder MapDevicesApi(this IEndpointRouteBuilder endpoints)
    {
        // The whole fleet, across tenants, is an operator's view.
        var devices = endpoints.MapGroup("/v1/devices").WithTags("Devices").RequireAuthorization(Scopes.Admin);
        devices.MapGet("/", ListDevicesAsync)
            .WithName("ListDevices")
            .WithSummary("Lists every known edge device, online or not, with its last heartbeat and capabilities.");
        devices.MapGet("/{deviceId}", GetDeviceAsync)
            .WithName("GetDevice")
            .WithSummary("Gets one edge device.");
        return endpoints;
    }

    public static async Task<Ok<ListResponse<DeviceResponse>>> ListDevicesAsync(
        IClusterClient cluster, DeviceAssignmentStore assignments, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var devices = await VisibleDevicesAsync(cluster, assignments, user, cancellationToken);
        return TypedResults.Ok(new ListResponse<DeviceResponse>(devices.Select(ToResponse).ToList()));
    }

    public static async Task<Results<Ok<DeviceResponse>, ProblemHttpResult>> GetDeviceAsync(
        string deviceId, IClusterClient cluster, DeviceAssignmentStore assignments, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var devices = await VisibleDevicesAsync(cluster, assignments, user, cancellationToken);
        var device = devices.FirstOrDefault(d => string.Equals(d.Record.Registration.DeviceId, deviceId, StringComparison.Ordinal));
        return device is null
            ? Problems.NotFound("device-not-found", "Device not found", $"No device with id '{deviceId}' is known to this tenant.")
            : TypedResults.Ok(ToResponse(device));
    }

    /// <summary>
    /// Operators of the system tenant see the whole fleet; a tenant's admins see shared devices and their own, and
    /// another tenant's device does not exist for them (404, never 403).
    /// </summary>
    private static async Task<IEnumerable<DeviceSummary>> VisibleDevicesAsync(
        IClusterClient cluster, DeviceAssignmentStore assignments, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var caller = CallerContext.From(user);
        var devices = await cluster.GetGrain<IDeviceDirectoryGrain>(IDeviceDirectoryGrain.Key).ListAsync();
        if (caller.Tenant == OutpostClaims.SystemTenant)
        {
            return devices;
        }

        var owners = await assignments.OwnersAsync(cancellationToken);
        return devices.Where(d => !owners.TryGetValue(d.Record.Registration.DeviceId, out var owner) || owner == caller.Tenant);
    }

    private static DeviceResponse ToResponse(DeviceSummary device)
    {
        var record = device.Record;
        var registration = record.Registration;
        return new DeviceResponse(
            registration.DeviceId,
            device.Online ? DeviceResponse.Online : DeviceResponse.Offline,
            record.Silo.ToParsableString(),
            record.RegisteredAt,
            record.LastHeartbeat,
            registration.Capabilities,
            registration.Models.Select(m => new DeviceModelResponse(m.Name, m.Task, m.Backend)).ToList(),
            registration.SoftwareVersion,
            registration.HostName,
            record.Load is { } load
                ? new DeviceLoadResponse(load.EmbeddingQueueDepth, load.GenerationQueueDepth, Math.Round(load.EmbeddingLatencyMs, 2), Math.Round(load.GenerationLatencyMs, 2), load.LastBatchSize)
                : null);
    }
}
