namespace Outpost.Identity.DeviceFlow;

/// <summary>The outcome of a poll; for <see cref="DevicePollOutcome.Granted"/>, what the token is to carry.</summary>
public sealed record DevicePollResult(DevicePollOutcome Outcome, string? TenantId = null, IReadOnlyList<string>? Scopes = null, string? ApprovedBy = null);
