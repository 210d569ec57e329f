namespace Outpost.Gateway.Tasks;

/// <summary>Caps as the policy file and the API write them; a missing one takes the default.</summary>
public sealed class TaskLimitsDocument
{
    public int? WallSeconds { get; set; }

    public int? CpuSeconds { get; set; }

    public long? MemoryMb { get; set; }

    public int? Processes { get; set; }

    public long? OutputKb { get; set; }

    public long? FileSizeMb { get; set; }

    public int? OpenFiles { get; set; }
}
