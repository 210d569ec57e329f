namespace Outpost.Grains.TenantQuotas;

[GenerateSerializer, Alias("outpost.TenantQuotaState")]
public sealed class TenantQuotaState
{
    [Id(0)]
    public TenantLimits? Limits { get; set; }

    [Id(1)]
    public DateTimeOffset? UpdatedAt { get; set; }
}
