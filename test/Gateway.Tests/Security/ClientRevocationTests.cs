using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Outpost.Identity;
using Outpost.Identity.Clients;
using Outpost.Identity.Tokens;
using Xunit;

namespace Outpost.Gateway.Tests.Security;

/// <summary>Disabling a client revokes the tokens it already holds (this cluster refreshes keys every 2 s).</summary>
[Collection(SecuredClusterCollection.Name)]
public sealed class ClientRevocationTests(SecuredClusterFixture fixture)
{
    private IServiceProvider Services => fixture.Cluster.Gateway.Services;

    [Fact]
    public async Task ClientDisabledThroughTheAdminApi_ItsLiveTokenIsRefusedAtOnce()
    {
        var (clientId, api) = await ClientWithTokenAsync("revoked-by-api");
        using var before = await EmbedAsync(api);
        using var admin = fixture.Cluster.CreateHttpClient(fixture.Cluster.IssueDevelopmentToken(OutpostClaims.SystemTenant, [Scopes.Admin]));

        using var disabled = await admin.PatchAsJsonAsync($"/v1/admin/tenants/tenant-a/clients/{clientId}", new { disabled = true });
        using var after = await EmbedAsync(api);

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.OK, disabled.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Contains("client is disabled", after.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientDisabledElsewhere_ItsLiveTokenIsRefusedWithinTheRefreshInterval()
    {
        var (clientId, api) = await ClientWithTokenAsync("revoked-elsewhere");
        using (var before = await EmbedAsync(api))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        // As the CLI or another gateway would: straight in the database, this gateway not told.
        await using (var data = Npgsql.NpgsqlDataSource.Create(fixture.Cluster.ConnectionString))
        await using (var command = data.CreateCommand("UPDATE outpost_clients SET disabled_at = now() WHERE client_id = @id"))
        {
            command.Parameters.AddWithValue("id", clientId);
            Assert.Equal(1, await command.ExecuteNonQueryAsync());
        }

        var deadline = DateTime.UtcNow.AddSeconds(15);
        HttpStatusCode status;
        do
        {
            await Task.Delay(250);
            using var response = await EmbedAsync(api);
            status = response.StatusCode;
        }
        while (status == HttpStatusCode.OK && DateTime.UtcNow < deadline);

        Assert.Equal(HttpStatusCode.Unauthorized, status);
    }

    private async Task<(string ClientId, HttpClient Api)> ClientWithTokenAsync(string name)
    {
        var created = await Services.GetRequiredService<ClientStore>().CreateAsync("tenant-a", name, ClientKind.Confidential, [Scopes.EmbedCreate]);
        var token = await Services.GetRequiredService<TokenIssuer>().IssueAsync(
            new AccessTokenRequest(created.Client.ClientId, created.Client.ClientId, "tenant-a", [Scopes.EmbedCreate]));
        return (created.Client.ClientId, fixture.Cluster.CreateHttpClient(token.AccessToken));
    }

    private static Task<HttpResponseMessage> EmbedAsync(HttpClient api) =>
        api.PostAsJsonAsync("/v1/embeddings", new { model = "all-MiniLM-L6-v2", input = "still allowed?" });
}
