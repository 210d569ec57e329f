namespace Outpost.Gateway.Contracts;

/// <summary>An edge device as the HTTP API shows it.</summary>
public sealed record DeviceResponse(
    string Id,
    string Status,
    string Silo,
    DateTimeOffset RegisteredAt,
    DateTimeOffset LastHeartbeat,
    IReadOnlyList<string> Capabilities,
    IReadOnlyList<DeviceModelResponse> Models,
    string SoftwareVersion,
    string HostName,
    DeviceLoadResponse? Load = null)
{
    public const string Online = "online";
    public const string Offline = "offline";
}
