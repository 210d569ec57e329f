namespace Outpost.Gateway.Contracts;

/// <summary><c>POST /v1/approvals/{id}</c>: <c>decision</c> is <c>approve</c> or <c>reject</c>; <c>reason</c> is recorded in the audit log.</summary>
public sealed record ApprovalDecisionRequest(string? Decision, string? Reason);
