namespace Outpost.Grains.AuditLogs;

[GenerateSerializer, Alias("outpost.AuditLogState")]
public sealed class AuditLogState
{
    [Id(0)]
    public List<AuditEntry> Entries { get; set; } = [];
}
