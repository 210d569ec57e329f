namespace Outpost.Identity;

/// <summary>The scopes a token can carry; each endpoint names the one it needs.</summary>
public static class Scopes
{
    public const string EmbedCreate = "embed:create";
    public const string InferCreate = "infer:create";
    public const string CodeExecute = "code:execute";
    public const string FileRead = "file:read";
    public const string TasksRead = "tasks:read";
    public const string ApprovalsDecide = "approvals:decide";
    public const string AuditRead = "audit:read";
    public const string SpendRead = "spend:read";
    public const string Admin = "admin";

    public static IReadOnlySet<string> All { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        EmbedCreate, InferCreate, CodeExecute, FileRead, TasksRead, ApprovalsDecide, AuditRead, SpendRead, Admin,
    };
}
