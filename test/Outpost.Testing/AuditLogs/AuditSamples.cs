using Outpost.Grains.AuditLogs;

namespace Outpost.Testing.AuditLogs;

/// <summary>Audit events and tenant names for tests of the audit log, its grain and its verifier.</summary>
public static class AuditSamples
{
    /// <summary>An allowed embeddings request's event; <paramref name="i"/> varies the user and the cost.</summary>
    public static AuditEvent Event(int i, DateTimeOffset? time = null) =>
        new(time ?? DateTimeOffset.UtcNow, $"user-{i % 3}", "POST /v1/embeddings", AuditEvent.Allowed, "edge:dev-pi-1",
            Guid.NewGuid().ToString("N"), ClientId: "cowork", SourceAddress: "127.0.0.1", Scopes: "embed:create", Rule: "scope:embed:create",
            Device: "dev-pi-1", CostMicros: i, Status: 200, Outcome: "ok");

    /// <summary>A tenant id no other test uses.</summary>
    public static string NewTenant(string name) => $"{name}-{Guid.NewGuid():N}"[..24];
}
