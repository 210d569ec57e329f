using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Outpost.Gateway.Tests.Security;
using Outpost.Identity;
using Outpost.Identity.Clients;
using Outpost.Testing.AuditLogs;
using Xunit;

namespace Outpost.Gateway.Tests.AuditLogs;

/// <summary>The token endpoint's requests carry no bearer token, yet are audited in the tenant of the client they concern.</summary>
[Collection(SecuredClusterCollection.Name)]
public sealed class OAuthAuditTests(SecuredClusterFixture fixture)
{
    [Fact]
    public async Task TokenRequest_OfAKnownClient_IsAuditedInItsTenantWithItsClientId_AnUnknownOneInUnauthenticated()
    {
        var created = await fixture.Cluster.Gateway.Services.GetRequiredService<ClientStore>()
            .CreateAsync("tenant-a", "audited machine", ClientKind.Confidential, [Scopes.EmbedCreate]);
        using var http = new HttpClient { BaseAddress = fixture.Cluster.Http.BaseAddress };

        using var issued = await http.PostAsync("/oauth/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = created.Client.ClientId,
            ["client_secret"] = created.Secret!,
        }));
        using var refused = await http.PostAsync("/oauth/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = "no-such-client",
            ["client_secret"] = "guess",
        }));

        Assert.Equal(HttpStatusCode.OK, issued.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        var good = await EventAsync(issued);
        var bad = await EventAsync(refused);
        Assert.Equal(("tenant-a", created.Client.ClientId, created.Client.ClientId, "POST /oauth/token"), good);
        Assert.Equal("_unauthenticated", bad.Tenant);
    }

    private async Task<(string Tenant, string ClientId, string Subject, string Action)> EventAsync(HttpResponseMessage response)
    {
        var requestId = response.Headers.GetValues("X-Request-Id").Single();
        Assert.NotNull(await AuditRows.EnsureLoggedAsync(fixture.Cluster, requestId));
        await using var data = NpgsqlDataSource.Create(fixture.Cluster.ConnectionString);
        await using var command = data.CreateCommand("SELECT tenant_id, client_id, subject, action FROM outpost_audit_events WHERE request_id = @id");
        command.Parameters.AddWithValue("id", requestId);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3));
    }
}
