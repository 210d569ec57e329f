using System.ComponentModel.DataAnnotations;

namespace Outpost.Gateway.AuditLogs;

/// <summary>The gateway's audit writer. Section <c>Audit:Writer</c>.</summary>
public sealed class AuditWriterOptions
{
    public const string Section = "Audit:Writer";

    /// <summary>
    /// The most staged events waiting in memory to be handed to their logs. While no control silo answers, hand-overs
    /// wait out their retries; beyond this many, newly staged events are left to the intake (durable in PostgreSQL),
    /// which the control silos' sweepers log once one is back, so the gateway's memory does not grow with the outage.
    /// </summary>
    [Range(1, 10_000_000, ErrorMessage = "must be from 1 to 10000000.")]
    public int MaxHandOverBacklog { get; set; } = 10_000;
}
