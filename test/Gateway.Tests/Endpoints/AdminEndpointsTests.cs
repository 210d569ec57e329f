using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Outpost.Identity;
using Outpost.Identity.Clients;
using Outpost.Testing.Identity;
using Outpost.Testing.PostgreSql;
using Xunit;

namespace Outpost.Gateway.Tests.Endpoints;

/// <summary>The admin API's handlers and their tenant rules, on a real Kestrel (the caller's tenant is given directly).</summary>
[Collection(IdentityCollection.Name)]
public sealed class AdminEndpointsTests(PostgreSqlFixture fixture) : IAsyncLifetime
{
    private static readonly string[] EmbedOnly = [Scopes.EmbedCreate];
    private static readonly string[] InferAndEmbed = [Scopes.InferCreate, Scopes.EmbedCreate];
    private static readonly string[] UnknownScope = ["everything"];

    private IdentityDatabase _database = null!;
    private IdentityTestHost _host = null!;
    private HttpClient _system = null!;
    private HttpClient _acme = null!;

    public async Task InitializeAsync()
    {
        _database = await IdentityDatabase.CreateAsync(fixture);
        _host = await IdentityTestHost.StartAsync(_database);
        _system = _host.CreateClient(OutpostClaims.SystemTenant);
        _acme = _host.CreateClient("acme");
        (await _system.PostAsJsonAsync("/v1/admin/tenants", new { tenant_id = "acme", display_name = "Acme" })).EnsureSuccessStatusCode();
        (await _system.PostAsJsonAsync("/v1/admin/tenants", new { tenant_id = "globex" })).EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync()
    {
        _system.Dispose();
        _acme.Dispose();
        await _host.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task CreateTenant_NonSystemCaller_Forbidden()
    {
        using var response = await _acme.PostAsJsonAsync("/v1/admin/tenants", new { tenant_id = "initech" });

        await AssertProblemAsync(response, HttpStatusCode.Forbidden);
        Assert.Null(await _database.Tenants().FindAsync("initech"));
    }

    [Fact]
    public async Task CreateTenant_Duplicate_Conflict()
    {
        using var response = await _system.PostAsJsonAsync("/v1/admin/tenants", new { tenant_id = "acme" });

        await AssertProblemAsync(response, HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task ListTenants_SystemSeesAll_OthersOnlyTheirOwn()
    {
        Assert.Equal(["acme", "globex", "system"], await TenantIdsAsync(_system));
        Assert.Equal(["acme"], await TenantIdsAsync(_acme));
    }

    [Fact]
    public async Task CreateClient_SecretInCreateResponseOnly()
    {
        using var created = await _acme.PostAsJsonAsync("/v1/admin/tenants/acme/clients", new { name = "ci", allowed_scopes = EmbedOnly });
        var body = await ReadJsonAsync(created, HttpStatusCode.Created);
        var secret = body.GetProperty("client_secret").GetString()!;
        var clientId = body.GetProperty("client").GetProperty("client_id").GetString()!;
        Assert.Equal("confidential", body.GetProperty("client").GetProperty("kind").GetString());

        var list = await _acme.GetStringAsync("/v1/admin/tenants/acme/clients");

        Assert.Contains(clientId, list, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, list, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", list, StringComparison.Ordinal);
        Assert.NotNull(await _database.Clients().ValidateSecretAsync(clientId, secret));
    }

    [Fact]
    public async Task OtherTenantsClients_AnswerNotFound_LikeMissingTenant()
    {
        var globexClient = await _database.Clients().CreateAsync("globex", "robot", ClientKind.Confidential, [Scopes.EmbedCreate]);

        using var list = await _acme.GetAsync("/v1/admin/tenants/globex/clients");
        using var create = await _acme.PostAsJsonAsync("/v1/admin/tenants/globex/clients", new { name = "x", allowed_scopes = EmbedOnly });
        using var patch = await _acme.PatchAsJsonAsync($"/v1/admin/tenants/globex/clients/{globexClient.Client.ClientId}", new { disabled = true });
        using var patchViaOwnTenant = await _acme.PatchAsJsonAsync($"/v1/admin/tenants/acme/clients/{globexClient.Client.ClientId}", new { disabled = true });
        using var missing = await _acme.GetAsync("/v1/admin/tenants/initech/clients");

        var missingBody = await ReadJsonAsync(missing, HttpStatusCode.NotFound);
        var listBody = await ReadJsonAsync(list, HttpStatusCode.NotFound);
        Assert.Equal(missingBody.GetProperty("type").GetString(), listBody.GetProperty("type").GetString());
        await AssertProblemAsync(create, HttpStatusCode.NotFound);
        await AssertProblemAsync(patch, HttpStatusCode.NotFound);
        await AssertProblemAsync(patchViaOwnTenant, HttpStatusCode.NotFound);
        Assert.False((await _database.Clients().FindAsync(globexClient.Client.ClientId))!.IsDisabled);
    }

    [Fact]
    public async Task PatchClient_ScopesAndDisable_Applied_AndUnknownScopeRefused()
    {
        var client = await _database.Clients().CreateAsync("acme", "ci", ClientKind.Confidential, [Scopes.EmbedCreate]);

        using var patched = await _acme.PatchAsJsonAsync(
            $"/v1/admin/tenants/acme/clients/{client.Client.ClientId}", new { allowed_scopes = InferAndEmbed, disabled = true });
        using var bad = await _acme.PatchAsJsonAsync(
            $"/v1/admin/tenants/acme/clients/{client.Client.ClientId}", new { allowed_scopes = UnknownScope });

        var body = await ReadJsonAsync(patched, HttpStatusCode.OK);
        Assert.Equal(["embed:create", "infer:create"], body.GetProperty("allowed_scopes").EnumerateArray().Select(e => e.GetString()).ToList());
        Assert.NotEqual(JsonValueKind.Null, body.GetProperty("disabled_at").ValueKind);
        await AssertProblemAsync(bad, HttpStatusCode.BadRequest);
        Assert.Null(await _database.Clients().ValidateSecretAsync(client.Client.ClientId, client.Secret!));
    }

    [Fact]
    public async Task CreateAdmin_OwnTenant_CanThenLogIn_OtherTenantNotFound()
    {
        using var own = await _acme.PostAsJsonAsync("/v1/admin/tenants/acme/admins", new { username = "alice", password = "correct horse battery" });
        using var other = await _acme.PostAsJsonAsync("/v1/admin/tenants/globex/admins", new { username = "mallory", password = "correct horse battery" });

        Assert.Equal(HttpStatusCode.Created, own.StatusCode);
        Assert.DoesNotContain("horse", await own.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(await _database.Admins().VerifyAsync("acme", "alice", "correct horse battery"));
        await AssertProblemAsync(other, HttpStatusCode.NotFound);
        Assert.Empty(await _database.Admins().ListAsync("globex"));
    }

    [Fact]
    public async Task AssignDevice_SystemOnly_TenantOrShared()
    {
        using var forbidden = await _acme.PutAsJsonAsync("/v1/admin/devices/dev-pi-1/assignment", new { tenant = "acme" });
        await AssertProblemAsync(forbidden, HttpStatusCode.Forbidden);

        using var assigned = await _system.PutAsJsonAsync("/v1/admin/devices/dev-pi-1/assignment", new { tenant = "acme" });
        var body = await ReadJsonAsync(assigned, HttpStatusCode.OK);
        Assert.Equal("acme", body.GetProperty("tenant").GetString());
        Assert.False(body.GetProperty("shared").GetBoolean());

        using var shared = await _system.PutAsJsonAsync("/v1/admin/devices/dev-pi-1/assignment", new { tenant = (string?)null });
        Assert.True((await ReadJsonAsync(shared, HttpStatusCode.OK)).GetProperty("shared").GetBoolean());
        Assert.True((await _database.Assignments().FindAsync("dev-pi-1"))!.IsShared);

        using var unknown = await _system.PutAsJsonAsync("/v1/admin/devices/dev-pi-1/assignment", new { tenant = "initech" });
        await AssertProblemAsync(unknown, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task RotateKeys_SystemOnly_NewActiveKeyPublished()
    {
        var before = await _system.GetStringAsync("/.well-known/jwks.json");
        using var forbidden = await _acme.PostAsync("/v1/admin/keys/rotate", null);
        await AssertProblemAsync(forbidden, HttpStatusCode.Forbidden);

        using var rotated = await _system.PostAsync("/v1/admin/keys/rotate", null);

        var body = await ReadJsonAsync(rotated, HttpStatusCode.OK);
        Assert.Equal("active", body.GetProperty("status").GetString());
        var kid = body.GetProperty("kid").GetString()!;
        Assert.DoesNotContain(kid, before, StringComparison.Ordinal);
        var after = await _system.GetStringAsync("/.well-known/jwks.json");
        Assert.Contains(kid, after, StringComparison.Ordinal);
        using var document = JsonDocument.Parse(after);
        Assert.Equal(2, document.RootElement.GetProperty("keys").GetArrayLength());
    }

    private static async Task<List<string>> TenantIdsAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/v1/admin/tenants");
        var body = await ReadJsonAsync(response, HttpStatusCode.OK);
        return body.GetProperty("data").EnumerateArray().Select(t => t.GetProperty("tenant_id").GetString()!).ToList();
    }

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await ReadJsonAsync(response, expected);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("https://outpost.dev/problems/", body.GetProperty("type").GetString(), StringComparison.Ordinal);
    }
}
