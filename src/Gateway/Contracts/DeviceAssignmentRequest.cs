namespace Outpost.Gateway.Contracts;

/// <summary><c>PUT /v1/admin/devices/{deviceId}/assignment</c>: <c>{"tenant": "acme"}</c>, or <c>{"tenant": null}</c> for shared.</summary>
public sealed record DeviceAssignmentRequest(string? Tenant);
