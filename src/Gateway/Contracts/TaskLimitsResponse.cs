namespace Outpost.Gateway.Contracts;

/// <summary>The caps a task runs under, in bytes and seconds.</summary>
public sealed record TaskLimitsResponse(int WallSeconds, int CpuSeconds, long MemoryBytes, int Processes, long OutputBytes, long FileSizeBytes, int OpenFiles);
