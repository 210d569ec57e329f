namespace Outpost.Gateway.Contracts;

/// <summary>A model a device serves.</summary>
public sealed record DeviceModelResponse(string Name, string Task, string Backend);
