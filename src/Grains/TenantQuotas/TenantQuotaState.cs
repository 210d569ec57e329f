namespace Outpost.Grains.TenantQuotas;

[GenerateSerializer, Alias("outpost.TenantQuotaState")]
public sealed class TenantQuotaState
{
    [Id(0)]
    public TenantLimits? Limits { get; set; }

    [Id(1)]
    public DateTimeOffset? UpdatedAt { get; set; }

    /// <summary>The start of the period the committed totals belong to; null until the first period begins.</summary>
    [Id(2)]
    public DateTimeOffset? PeriodStart { get; set; }

    [Id(3)]
    public long CommittedMicros { get; set; }

    [Id(4)]
    public Dictionary<string, long> ClientCommittedMicros { get; set; } = [];

    [Id(5)]
    public Dictionary<string, long> KindCommittedMicros { get; set; } = [];

    /// <summary>Open reservations by reservation id.</summary>
    [Id(6)]
    public Dictionary<string, OpenReservation> Reservations { get; set; } = [];

    /// <summary>
    /// The newest ledger row counted in the committed totals; rows after it are counted when the grain activates.
    /// Null in state written before commits stopped writing state.
    /// </summary>
    [Id(7)]
    public long? LedgerWatermark { get; set; }
}
