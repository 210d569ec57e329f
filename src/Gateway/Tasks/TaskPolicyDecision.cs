using Outpost.Grains.TaskRuns;

namespace Outpost.Gateway.Tasks;

/// <summary>What policy said about a task, and which rule said it.</summary>
/// <param name="Denied">True when the task may not run at all.</param>
/// <param name="Approval">Who must approve it, when it may run.</param>
/// <param name="Rule">The rule's name, or <c>default</c>.</param>
/// <param name="ApprovalTimeout">How long the approval may take.</param>
public sealed record TaskPolicyDecision(bool Denied, TaskApproval Approval, string Rule, TimeSpan ApprovalTimeout);
