namespace Outpost.Gateway.Contracts;

/// <summary>A tenant's audit settings: retention in days (null: keep forever) and whether bodies are stored.</summary>
public sealed record AuditSettingsRequest(int? RetentionDays, bool? StoreBodies);
