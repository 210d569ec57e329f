namespace Outpost.Grains.TaskRuns;

[GenerateSerializer, Alias("outpost.TaskRunState")]
public sealed class TaskRunState
{
    [Id(0)]
    public TaskRunStatus Status { get; set; }

    [Id(1)]
    public TaskRunSpec? Spec { get; set; }

    [Id(2)]
    public DateTimeOffset CreatedAt { get; set; }

    [Id(3)]
    public DateTimeOffset UpdatedAt { get; set; }

    [Id(4)]
    public string? Reason { get; set; }

    [Id(5)]
    public string? DecidedBy { get; set; }

    [Id(6)]
    public string? Fingerprint { get; set; }

    [Id(7)]
    public DateTimeOffset? ApprovalExpiresAt { get; set; }

    [Id(8)]
    public DateTimeOffset? QueueDeadline { get; set; }

    [Id(9)]
    public string? Device { get; set; }

    [Id(10)]
    public int Attempt { get; set; }

    [Id(11)]
    public SignedManifest? Manifest { get; set; }

    [Id(12)]
    public string? ManifestSha256 { get; set; }

    [Id(13)]
    public byte[]? DevicePublicKey { get; set; }

    [Id(14)]
    public DateTimeOffset? DispatchedAt { get; set; }

    [Id(15)]
    public DateTimeOffset? StartedAt { get; set; }

    [Id(16)]
    public DateTimeOffset? EndedAt { get; set; }

    [Id(17)]
    public int? ExitCode { get; set; }

    [Id(18)]
    public SignedTaskResult? Result { get; set; }

    [Id(19)]
    public bool ResultVerified { get; set; }

    [Id(20)]
    public string? LogDigest { get; set; }

    [Id(21)]
    public long LogBytes { get; set; }

    [Id(22)]
    public List<TaskOutput> Outputs { get; set; } = [];

    [Id(23)]
    public List<string> LostDevices { get; set; } = [];

    [Id(24)]
    public string? CreatedByRequest { get; set; }
}
