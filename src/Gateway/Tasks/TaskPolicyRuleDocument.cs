namespace Outpost.Gateway.Tasks;

/// <summary>
/// One rule: every condition given must hold for it to match (a list matches when any entry does); an empty
/// <see cref="Match"/> matches every task.
/// </summary>
public sealed class TaskPolicyRuleDocument
{
    public string? Name { get; set; }

    public TaskPolicyMatchDocument? Match { get; set; }

    /// <summary><c>allow</c>, <c>approve</c>, <c>approve-admin</c> or <c>deny</c>.</summary>
    public string? Decision { get; set; }

    /// <summary>How long an approval this rule asks for may take; the policy's <c>approval_timeout</c> when left out.</summary>
    public string? ApprovalTimeout { get; set; }
}
