namespace Outpost.Gateway.Contracts;

/// <summary><c>POST /v1/admin/tenants/{tenant}/clients</c>. <c>kind</c> is <c>confidential</c> (default) or <c>public</c>.</summary>
public sealed record CreateClientRequest(string? Name, string? Kind, IReadOnlyList<string>? AllowedScopes, string? CertificateThumbprint);
