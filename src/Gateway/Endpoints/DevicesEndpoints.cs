using Microsoft.AspNetCore.Http.HttpResults;
using Outpost.Gateway.Contracts;
using Outpost.Gateway.Errors;
using Outpost.Gateway.Identity;
using Outpost.Grains.EdgeDevices;

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

    public static async Task<Ok<ListResponse<DeviceResponse>>> ListDevicesAsync(IClusterClient cluster)
    {
        var devices = await cluster.GetGrain<IDeviceDirectoryGrain>(IDeviceDirectoryGrain.Key).ListAsync();
        return TypedResults.Ok(new ListResponse<DeviceResponse>(devices.Select(ToResponse).ToList()));
    }

    public static async Task<Results<Ok<DeviceResponse>, ProblemHttpResult>> GetDeviceAsync(string deviceId, IClusterClient cluster)
    {
        var devices = await cluster.GetGrain<IDeviceDirectoryGrain>(IDeviceDirectoryGrain.Key).ListAsync();
        var device = devices.FirstOrDefault(d => string.Equals(d.Record.Registration.DeviceId, deviceId, StringComparison.Ordinal));
        return device is null
            ? Problems.NotFound("device-not-found", "Device not found", $"No device with id '{deviceId}' has ever registered.")
            : TypedResults.Ok(ToResponse(device));
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
            registration.HostName);
    }
}
