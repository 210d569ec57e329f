namespace Outpost.Identity.DeviceFlow;

/// <summary>
/// A new device authorization request: the device code goes to the device, the user code (formatted <c>XXXX-XXXX</c>)
/// to the person.
/// </summary>
public sealed record DeviceAuthorization(string DeviceCode, string UserCode, DateTimeOffset ExpiresAt, TimeSpan Lifetime, int IntervalSeconds);
