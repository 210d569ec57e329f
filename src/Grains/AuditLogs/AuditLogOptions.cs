using System.ComponentModel.DataAnnotations;

namespace Outpost.Grains.AuditLogs;

/// <summary>How the control plane keeps audit logs. Section <c>Audit</c>.</summary>
public sealed class AuditLogOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Audit";

    /// <summary>How often an active log signs a checkpoint when it has grown since the last one.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "must be a time span from 00:00:01 to 1.00:00:00.")]
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The most events written in one COPY.</summary>
    [Range(1, 100_000, ErrorMessage = "must be from 1 to 100000.")]
    public int MaxBatchSize { get; set; } = 4096;

    /// <summary>How long a request id is remembered, so that a retried append is not logged twice.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00", ErrorMessage = "must be a time span from 00:00:10 to 1.00:00:00.")]
    public TimeSpan DeduplicationWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How often each control silo looks for events that waited in the audit intake longer than
    /// <see cref="IntakeGrace"/>, and has their logs take them.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00", ErrorMessage = "must be a time span from 00:00:00.1 to 01:00:00.")]
    public TimeSpan IntakeSweepInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a staged event is left to the gateway that staged it (which hands it to its log within milliseconds)
    /// before the sweeper takes it.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00", ErrorMessage = "must be a time span from 00:00:00 to 01:00:00.")]
    public TimeSpan IntakeGrace { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often a log with a retention period looks for expired segments to prune (at least a minute).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00", ErrorMessage = "must be a time span from 00:01:00 to 7.00:00:00.")]
    public TimeSpan RetentionCheckInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// A file every signed checkpoint is appended to, one JSON line each: a witness copy outside the database, to
    /// ship elsewhere. Null: none.
    /// </summary>
    public string? WitnessFile { get; set; }

    /// <summary>
    /// An HTTP(S) endpoint every signed checkpoint is POSTed to as the same JSON: a witness run by someone else. A
    /// witness that is down does not stop signing; it can fetch what it missed from <c>GET /v1/audit/checkpoints</c>.
    /// Null: none.
    /// </summary>
    [RegularExpression("^https?://[^\\s]+$", ErrorMessage = "must be an absolute http:// or https:// URL.")]
    public string? WitnessUrl { get; set; }

    /// <summary>How long one POST to the witness may take.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00", ErrorMessage = "must be a time span from 00:00:00.1 to 00:01:00.")]
    public TimeSpan WitnessTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
