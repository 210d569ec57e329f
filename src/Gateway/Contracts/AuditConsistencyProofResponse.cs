namespace Outpost.Gateway.Contracts;

/// <summary>Proof (RFC 9162 section 2.1.4) that the log at <see cref="ToSize"/> extends the log at <see cref="FromSize"/>.</summary>
public sealed record AuditConsistencyProofResponse(long FromSize, long ToSize, string FromRoot, string ToRoot, IReadOnlyList<string> Proof);
