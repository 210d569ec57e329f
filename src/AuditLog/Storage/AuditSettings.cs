namespace Outpost.AuditLog.Storage;

/// <summary>A tenant's audit settings.</summary>
/// <param name="RetentionDays">Events older than this many days are pruned (as whole signed segments); null keeps them forever.</param>
/// <param name="StoreBodies">Store request and response bodies next to their digests.</param>
public sealed record AuditSettings(int? RetentionDays, bool StoreBodies);
