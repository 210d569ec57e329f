using Outpost.Gateway.AuditLogs;

namespace Outpost.Gateway.Security;

/// <summary>
/// Names the rule that refused a request, for its audit event: the audit middleware writes one event per request, and
/// this is how a refusal's reason reaches it.
/// </summary>
public sealed class DenialAuditor
{
    /// <summary>Records that the rule in <paramref name="decision"/> (<c>denied:&lt;rule&gt;</c>) refused the request.</summary>
    public void Record(HttpContext context, string decision, string reason)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(decision);
        var rule = decision.StartsWith("denied:", StringComparison.Ordinal) ? decision["denied:".Length..] : decision;
        AuditFeature.Of(context)?.Deny(rule, reason);
    }
}
