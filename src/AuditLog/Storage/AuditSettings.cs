namespace Outpost.AuditLog.Storage;

/// <summary>A tenant's audit settings.</summary>
/// <param name="RetentionDays">Events older than this many days are pruned (as whole signed segments); null keeps them forever.</param>
/// <param name="StoreBodies">Store request and response bodies next to their digests.</param>
public sealed record AuditSettings(int? RetentionDays, bool StoreBodies)
{
    /// <summary>The pseudo-tenant whose log holds the requests nobody could identify.</summary>
    public const string UnauthenticatedTenant = "_unauthenticated";

    /// <summary>
    /// How long <see cref="UnauthenticatedTenant"/>'s events are kept unless set otherwise: anyone on the network can add
    /// to that log, so it must not grow forever by default.
    /// </summary>
    public const int UnauthenticatedRetentionDays = 30;

    /// <summary>A tenant's settings when none were set: keep forever, no bodies (30 days for the unauthenticated log).</summary>
    public static AuditSettings DefaultFor(string tenant) =>
        new(tenant == UnauthenticatedTenant ? UnauthenticatedRetentionDays : null, false);
}
