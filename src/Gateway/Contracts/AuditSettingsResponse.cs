namespace Outpost.Gateway.Contracts;

/// <summary>A tenant's audit settings and how much of its log retention has pruned.</summary>
public sealed record AuditSettingsResponse(string Tenant, int? RetentionDays, bool StoreBodies, long PrunedSize);
