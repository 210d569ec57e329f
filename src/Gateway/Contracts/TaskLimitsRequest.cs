namespace Outpost.Gateway.Contracts;

/// <summary>Caps a task asks for; each left out takes the policy's default, and none may pass the policy's maximum.</summary>
public sealed record TaskLimitsRequest(int? WallSeconds, int? CpuSeconds, long? MemoryMb, int? Processes, long? OutputKb, long? FileSizeMb, int? OpenFiles);
