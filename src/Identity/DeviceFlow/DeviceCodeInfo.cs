namespace Outpost.Identity.DeviceFlow;

/// <summary>What the approval page shows about a user code.</summary>
public sealed record DeviceCodeInfo(
    string UserCode,
    string ClientId,
    IReadOnlyList<string> Scopes,
    DeviceCodeStatus Status,
    DateTimeOffset ExpiresAt);
