namespace Outpost.Gateway.Tasks;

/// <summary>
/// The policy file as written (YAML, or JSON, which is YAML too): default caps, how long approvals may take, rules in
/// order (the first that matches decides) and the decision when none does.
/// </summary>
public sealed class TaskPolicyDocument
{
    public TaskLimitsDocument? Defaults { get; set; }

    /// <summary>The caps no task may exceed, even with approval; defaults to four times <see cref="Defaults"/>.</summary>
    public TaskLimitsDocument? Maximums { get; set; }

    /// <summary>How long a pending approval waits before the run expires (e.g. <c>01:00:00</c>).</summary>
    public string? ApprovalTimeout { get; set; }

    public List<TaskPolicyRuleDocument>? Rules { get; set; }

    /// <summary><c>allow</c>, <c>approve</c>, <c>approve-admin</c> or <c>deny</c> (default <c>approve</c>).</summary>
    public string? Default { get; set; }
}
