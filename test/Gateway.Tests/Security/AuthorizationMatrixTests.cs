using System.Net;
using System.Text;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Outpost.Identity;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.Gateway.Tests.Security;

/// <summary>
/// Every endpoint against every kind of credential: only a valid token with the endpoint's scope gets through. The
/// list of endpoints is checked against the gateway's own route table, so an endpoint added without an entry here
/// fails the suite.
/// </summary>
[Collection(SecuredClusterCollection.Name)]
public sealed class AuthorizationMatrixTests(SecuredClusterFixture fixture)
{
    private const string SystemTenant = "system";

    private static readonly string[] Credentials =
        ["none", "expired", "wrong-audience", "wrong-issuer", "bad-signature", "alg-none", "missing-scope", "right-scope"];

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var endpoint in Endpoints.Keys)
        {
            foreach (var credential in Credentials)
            {
                data.Add(endpoint, credential);
            }
        }

        return data;
    }

    /// <summary>
    /// A valid request to one route, the scope it needs and the tenant it acts as. In paths, <c>{request}</c> stands for a
    /// request id in the caller's audit log, <c>{client}</c> for a client of tenant-a and <c>{unique}</c> for a fresh id.
    /// </summary>
    private sealed record Endpoint(
        string Route, HttpMethod Method, string Path, string? Body, string Scope, string Tenant = OutpostCluster.DefaultTenant,
        HttpStatusCode? Allowed = null, bool AnthropicErrors = false);

    private const string NoRun = "run_00000000000000000000000000000000";

    private static readonly Dictionary<string, Endpoint> Endpoints = new()
    {
        ["embeddings"] = new("POST /v1/embeddings", HttpMethod.Post, "/v1/embeddings", """{"model":"all-MiniLM-L6-v2","input":"matrix"}""", Scopes.EmbedCreate),
        ["infer-embed"] = new("POST /v1/infer", HttpMethod.Post, "/v1/infer", """{"task":"embed","payload":{"model":"all-MiniLM-L6-v2","input":"matrix"}}""", Scopes.EmbedCreate),
        ["infer-generate"] = new("POST /v1/infer", HttpMethod.Post, "/v1/infer", """{"task":"generate","payload":{"model":"qwen2.5:1.5b","prompt":"hi","max_tokens":4}}""", Scopes.InferCreate),
        ["messages"] = new("POST /v1/messages", HttpMethod.Post, "/v1/messages", """{"model":"qwen2.5:1.5b","max_tokens":4,"messages":[{"role":"user","content":"hi"}]}""", Scopes.InferCreate, AnthropicErrors: true),
        ["devices"] = new("GET /v1/devices", HttpMethod.Get, "/v1/devices", null, Scopes.Admin),
        ["device"] = new("GET /v1/devices/{deviceId}", HttpMethod.Get, "/v1/devices/dev-pi-1", null, Scopes.Admin),
        ["spend"] = new("GET /v1/spend", HttpMethod.Get, "/v1/spend", null, Scopes.SpendRead),
        ["audit-events"] = new("GET /v1/audit/events", HttpMethod.Get, "/v1/audit/events?limit=5", null, Scopes.AuditRead),
        ["audit-event"] = new("GET /v1/audit/events/{requestId}", HttpMethod.Get, "/v1/audit/events/{request}", null, Scopes.AuditRead),
        ["audit-export"] = new("GET /v1/audit/export", HttpMethod.Get, "/v1/audit/export?request_id={request}", null, Scopes.AuditRead),
        ["audit-checkpoint-latest"] = new("GET /v1/audit/checkpoints/latest", HttpMethod.Get, "/v1/audit/checkpoints/latest", null, Scopes.AuditRead),
        ["audit-checkpoint-sign"] = new("POST /v1/audit/checkpoints", HttpMethod.Post, "/v1/audit/checkpoints", null, Scopes.AuditRead),
        ["audit-checkpoints"] = new("GET /v1/audit/checkpoints", HttpMethod.Get, "/v1/audit/checkpoints", null, Scopes.AuditRead),
        ["audit-keys"] = new("GET /v1/audit/keys", HttpMethod.Get, "/v1/audit/keys", null, Scopes.AuditRead),
        ["audit-inclusion"] = new("GET /v1/audit/proofs/inclusion", HttpMethod.Get, "/v1/audit/proofs/inclusion?request_id={request}", null, Scopes.AuditRead),
        ["audit-consistency"] = new("GET /v1/audit/proofs/consistency", HttpMethod.Get, "/v1/audit/proofs/consistency?from=1&to=1", null, Scopes.AuditRead),
        ["audit-verify"] = new("GET /v1/audit/verify", HttpMethod.Get, "/v1/audit/verify", null, Scopes.AuditRead),
        ["admin-tenant-create"] = new("POST /v1/admin/tenants", HttpMethod.Post, "/v1/admin/tenants", """{"tenant_id":"m-{unique}"}""", Scopes.Admin, SystemTenant),
        ["admin-tenants"] = new("GET /v1/admin/tenants", HttpMethod.Get, "/v1/admin/tenants", null, Scopes.Admin, SystemTenant),
        ["admin-client-create"] = new("POST /v1/admin/tenants/{tenant}/clients", HttpMethod.Post, "/v1/admin/tenants/tenant-a/clients", """{"name":"m-{unique}","allowed_scopes":["spend:read"]}""", Scopes.Admin, SystemTenant),
        ["admin-clients"] = new("GET /v1/admin/tenants/{tenant}/clients", HttpMethod.Get, "/v1/admin/tenants/tenant-a/clients", null, Scopes.Admin, SystemTenant),
        ["admin-client-update"] = new("PATCH /v1/admin/tenants/{tenant}/clients/{clientId}", HttpMethod.Patch, "/v1/admin/tenants/tenant-a/clients/{client}", """{"allowed_scopes":["spend:read"]}""", Scopes.Admin, SystemTenant),
        ["admin-admin-create"] = new("POST /v1/admin/tenants/{tenant}/admins", HttpMethod.Post, "/v1/admin/tenants/tenant-a/admins", """{"username":"m{unique}","password":"correct horse battery"}""", Scopes.Admin, SystemTenant),
        ["admin-device-assign"] = new("PUT /v1/admin/devices/{deviceId}/assignment", HttpMethod.Put, "/v1/admin/devices/dev-pi-1/assignment", """{"tenant":null}""", Scopes.Admin, SystemTenant),
        ["admin-keys"] = new("GET /v1/admin/keys", HttpMethod.Get, "/v1/admin/keys", null, Scopes.Admin, SystemTenant),
        ["admin-keys-rotate"] = new("POST /v1/admin/keys/rotate", HttpMethod.Post, "/v1/admin/keys/rotate", null, Scopes.Admin, SystemTenant),
        // Removing a real key would break the other tests' tokens; an unknown one shows the call was let through.
        ["admin-key-remove"] = new("DELETE /v1/admin/keys/{kid}", HttpMethod.Delete, "/v1/admin/keys/no-such-kid", null, Scopes.Admin, SystemTenant, HttpStatusCode.NotFound),
        ["admin-limits-set"] = new("PUT /v1/admin/tenants/{tenant}/limits", HttpMethod.Put, "/v1/admin/tenants/tenant-a/limits", """{"budget_micros":1000000000,"period":"monthly"}""", Scopes.Admin, SystemTenant),
        ["admin-limits"] = new("GET /v1/admin/tenants/{tenant}/limits", HttpMethod.Get, "/v1/admin/tenants/tenant-a/limits", null, Scopes.Admin, SystemTenant),
        ["admin-audit-set"] = new("PUT /v1/admin/tenants/{tenant}/audit", HttpMethod.Put, "/v1/admin/tenants/tenant-a/audit", """{"retention_days":400}""", Scopes.Admin, SystemTenant),
        ["admin-audit"] = new("GET /v1/admin/tenants/{tenant}/audit", HttpMethod.Get, "/v1/admin/tenants/tenant-a/audit", null, Scopes.Admin, SystemTenant),
        ["admin-audit-prune"] = new("POST /v1/admin/tenants/{tenant}/audit/prune", HttpMethod.Post, "/v1/admin/tenants/tenant-a/audit/prune", null, Scopes.Admin, SystemTenant),
        ["admin-audit-verify"] = new("GET /v1/admin/tenants/{tenant}/audit/verify", HttpMethod.Get, "/v1/admin/tenants/tenant-a/audit/verify", null, Scopes.Admin, SystemTenant),
        ["admin-audit-key-rotate"] = new("POST /v1/admin/audit/keys/rotate", HttpMethod.Post, "/v1/admin/audit/keys/rotate", null, Scopes.Admin, SystemTenant),
        ["tasks-submit"] = new("POST /v1/tasks", HttpMethod.Post, "/v1/tasks", """{"kind":"unit-test","argv":["true"]}""", Scopes.CodeExecute),
        ["tasks"] = new("GET /v1/tasks", HttpMethod.Get, "/v1/tasks", null, Scopes.TasksRead),
        ["task"] = new("GET /v1/tasks/{id}", HttpMethod.Get, "/v1/tasks/" + NoRun, null, Scopes.TasksRead, Allowed: HttpStatusCode.NotFound),
        ["task-logs"] = new("GET /v1/tasks/{id}/logs", HttpMethod.Get, $"/v1/tasks/{NoRun}/logs", null, Scopes.TasksRead, Allowed: HttpStatusCode.NotFound),
        ["task-attestation"] = new("GET /v1/tasks/{id}/attestation", HttpMethod.Get, $"/v1/tasks/{NoRun}/attestation", null, Scopes.TasksRead, Allowed: HttpStatusCode.NotFound),
        ["task-cancel"] = new("POST /v1/tasks/{id}/cancel", HttpMethod.Post, $"/v1/tasks/{NoRun}/cancel", null, Scopes.CodeExecute, Allowed: HttpStatusCode.NotFound),
        ["artifact-upload"] = new("PUT /v1/artifacts", HttpMethod.Put, "/v1/artifacts", """{"matrix":"{unique}"}""", Scopes.CodeExecute),
        ["artifact"] = new("GET /v1/artifacts/{digest}", HttpMethod.Get, "/v1/artifacts/sha256:" + NoRun[4..] + NoRun[4..], null, Scopes.TasksRead, Allowed: HttpStatusCode.NotFound),
        ["approvals"] = new("GET /v1/approvals", HttpMethod.Get, "/v1/approvals", null, Scopes.ApprovalsDecide),
        ["approval-decide"] = new("POST /v1/approvals/{id}", HttpMethod.Post, "/v1/approvals/" + NoRun, """{"decision":"approve"}""", Scopes.ApprovalsDecide, Allowed: HttpStatusCode.NotFound),
        ["admin-audit-events"] = new("GET /v1/admin/tenants/{tenant}/audit/events", HttpMethod.Get, "/v1/admin/tenants/_unauthenticated/audit/events?limit=5", null, Scopes.Admin, SystemTenant),
    };

    [Fact]
    public void Matrix_CoversEveryRouteThatNeedsAnIdentity()
    {
        var routes = fixture.Cluster.Gateway.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IAuthorizeData>() is not null && e.Metadata.GetMetadata<IAllowAnonymous>() is null)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["*"])
                .Select(method => $"{method} /{e.RoutePattern.RawText!.Trim('/')}"))
            .ToHashSet(StringComparer.Ordinal);

        Assert.NotEmpty(routes);
        Assert.Empty(routes.Except(Endpoints.Values.Select(e => e.Route), StringComparer.Ordinal).Order(StringComparer.Ordinal));
        Assert.Empty(Endpoints.Values.Select(e => e.Route).Except(routes, StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Endpoint_WithCredential_GetsExactlyTheExpectedStatus(string endpoint, string credential)
    {
        var entry = Endpoints[endpoint];
        var scope = entry.Scope;
        var cluster = fixture.Cluster;
        var path = await FillAsync(entry.Path, entry.Tenant);
        var body = entry.Body is null ? null : await FillAsync(entry.Body, entry.Tenant);
        var token = credential switch
        {
            "none" => null,
            "expired" => Token(DateTime.UtcNow.AddHours(-2), scope),
            "wrong-audience" => DevelopmentTokens.Create(cluster.DevelopmentKey, OutpostCluster.Issuer, "someone-else", entry.Tenant, [scope], TimeSpan.FromHours(1), "c"),
            "wrong-issuer" => DevelopmentTokens.Create(cluster.DevelopmentKey, "http://evil.test", OutpostCluster.Audience, entry.Tenant, [scope], TimeSpan.FromHours(1), "c"),
            "bad-signature" => DevelopmentTokens.Create(new byte[32], OutpostCluster.Issuer, OutpostCluster.Audience, entry.Tenant, [scope], TimeSpan.FromHours(1), "c"),
            "alg-none" => Unsigned(scope, entry.Tenant),
            "missing-scope" => Token(DateTime.UtcNow, Scopes.All.Where(s => s != scope).ToArray()),
            "right-scope" => Token(DateTime.UtcNow, scope),
            _ => throw new ArgumentOutOfRangeException(nameof(credential)),
        };

        using var client = cluster.CreateHttpClient(token);
        using var request = new HttpRequestMessage(entry.Method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        switch (credential)
        {
            case "right-scope":
                Assert.True(
                    entry.Allowed is { } allowed ? response.StatusCode == allowed : response.IsSuccessStatusCode,
                    $"{endpoint}: {(int)response.StatusCode} {text}");
                break;
            case "missing-scope":
                Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{endpoint}: {(int)response.StatusCode} {text}");
                var challenge = response.Headers.WwwAuthenticate.ToString();
                Assert.Contains("error=\"insufficient_scope\"", challenge, StringComparison.Ordinal);
                Assert.Contains($"scope=\"{scope}\"", challenge, StringComparison.Ordinal);
                AssertErrorBody(entry, response, text, "permission_error");
                break;
            default:
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{endpoint}: {(int)response.StatusCode} {text}");
                Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
                AssertErrorBody(entry, response, text, "authentication_error");
                if (credential != "none")
                {
                    Assert.Contains("error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
                }

                break;
        }

        string Token(DateTime issuedAt, params string[] scopes) =>
            DevelopmentTokens.Create(cluster.DevelopmentKey, OutpostCluster.Issuer, OutpostCluster.Audience, entry.Tenant, scopes, TimeSpan.FromHours(1), "c", issuedAt);
    }

    // Problem+json everywhere, except where the endpoint speaks a protocol with errors of its own (Anthropic's Messages).
    private static void AssertErrorBody(Endpoint entry, HttpResponseMessage response, string text, string anthropicType)
    {
        if (!entry.AnthropicErrors)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            return;
        }

        using var error = System.Text.Json.JsonDocument.Parse(text);
        Assert.Equal("error", error.RootElement.GetProperty("type").GetString());
        Assert.Equal(anthropicType, error.RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    private async Task<string> FillAsync(string template, string tenant)
    {
        var filled = template.Replace("{unique}", Guid.NewGuid().ToString("N")[..12], StringComparison.Ordinal);
        if (filled.Contains("{request}", StringComparison.Ordinal))
        {
            filled = filled.Replace("{request}", await LoggedRequestAsync(tenant), StringComparison.Ordinal);
        }

        if (filled.Contains("{client}", StringComparison.Ordinal))
        {
            filled = filled.Replace("{client}", await ClientOfTenantAAsync(), StringComparison.Ordinal);
        }

        return filled;
    }

    // A request that is in the tenant's audit log by the time its answer arrives.
    private async Task<string> LoggedRequestAsync(string tenant)
    {
        using var client = fixture.Cluster.CreateHttpClient(fixture.Cluster.IssueDevelopmentToken(tenant, [Scopes.SpendRead], clientId: "matrix-setup"));
        using var response = await client.GetAsync(new Uri("/v1/spend", UriKind.Relative));
        return Assert.Single(response.Headers.GetValues("X-Request-Id"));
    }

    private async Task<string> ClientOfTenantAAsync()
    {
        using var admin = fixture.Cluster.CreateHttpClient(fixture.Cluster.IssueDevelopmentToken(SystemTenant, [Scopes.Admin], clientId: "matrix-setup"));
        using var created = await admin.PostAsync(
            new Uri("/v1/admin/tenants/tenant-a/clients", UriKind.Relative),
            new StringContent($$"""{"name":"matrix-{{Guid.NewGuid():N}}","allowed_scopes":["spend:read"]}""", Encoding.UTF8, "application/json"));
        var text = await created.Content.ReadAsStringAsync();
        Assert.True(created.IsSuccessStatusCode, text);
        using var json = System.Text.Json.JsonDocument.Parse(text);
        return json.RootElement.GetProperty("client").GetProperty("client_id").GetString()!;
    }

    /// <summary>A token whose header says <c>alg: none</c> and that carries no signature, with otherwise valid claims.</summary>
    private static string Unsigned(string scope, string tenant)
    {
        static string Encode(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = Encode("""{"alg":"none","typ":"at+jwt"}""");
        var payload = Encode($$"""{"iss":"{{OutpostCluster.Issuer}}","aud":"{{OutpostCluster.Audience}}","sub":"c","client_id":"c","tenant":"{{tenant}}","scope":"{{scope}}","iat":{{now}},"nbf":{{now}},"exp":{{now + 3600}}}""");
        return $"{header}.{payload}.";
    }
}
