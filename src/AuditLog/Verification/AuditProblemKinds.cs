using System.Text.Json;

namespace Outpost.AuditLog.Verification;

public static class AuditProblemKinds
{
    /// <summary>The kind's name on the wire: snake_case, as JSON with a snake_case enum converter writes it.</summary>
    public static string WireName(this AuditProblemKind kind) => JsonNamingPolicy.SnakeCaseLower.ConvertName(kind.ToString());
}
