namespace Outpost.Grains.AuditLogs;

/// <summary>The public facts of an audit key; <paramref name="Signing"/> marks the newest, the one that signs now.</summary>
public sealed record AuditKeyInfo(string KeyId, string Algorithm, DateTimeOffset CreatedAt, bool Signing);
