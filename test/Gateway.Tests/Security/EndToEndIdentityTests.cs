using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Outpost.Identity;
using Outpost.Identity.Clients;
using Outpost.Identity.SigningKeys;
using Outpost.Identity.Tenants;
using Outpost.Identity.Tokens;
using Xunit;

namespace Outpost.Gateway.Tests.Security;

/// <summary>Outpost's own issuer against its own gateway: the device flow from code to API call, and key rotation.</summary>
[Collection(SecuredClusterCollection.Name)]
public sealed partial class EndToEndIdentityTests(SecuredClusterFixture fixture)
{
    private const string Password = "correct horse battery staple";

    private IServiceProvider Services => fixture.Cluster.Gateway.Services;

    [Fact]
    public async Task DeviceFlow_CodeApprovedByTenantAdmin_TokenCallsTheApiAsThatTenant()
    {
        var username = $"admin-{Guid.NewGuid():N}"[..20];
        await Services.GetRequiredService<TenantAdminStore>().CreateAsync("tenant-a", username, Password);
        var desktop = await Services.GetRequiredService<ClientStore>().CreateAsync("tenant-a", "cowork desktop", ClientKind.Public, [Scopes.EmbedCreate, Scopes.InferCreate]);
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = fixture.Cluster.Http.BaseAddress };

        using var authorization = await browser.PostAsync("/oauth/device_authorization", Form(("client_id", desktop.Client.ClientId), ("scope", Scopes.EmbedCreate)));
        var code = await authorization.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, authorization.StatusCode);
        var userCode = code.GetProperty("user_code").GetString()!;
        var deviceCode = code.GetProperty("device_code").GetString()!;

        using (var pending = await PollAsync(browser, desktop.Client.ClientId, deviceCode))
        {
            Assert.Equal("authorization_pending", (await pending.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        }

        await ApproveAsync(browser, userCode, username);
        var token = await PollUntilTokenAsync(browser, desktop.Client.ClientId, deviceCode);

        using var api = fixture.Cluster.CreateHttpClient(token);
        using var embedded = await api.PostAsJsonAsync("/v1/embeddings", new { model = "all-MiniLM-L6-v2", input = "signed in with the device flow" });
        Assert.Equal(HttpStatusCode.OK, embedded.StatusCode);
        using var devices = await api.GetAsync("/v1/devices");
        Assert.Equal(HttpStatusCode.Forbidden, devices.StatusCode);
    }

    [Fact]
    public async Task KeyRotation_PreviousKeysTokens_WorkUntilTheKeyIsRemoved()
    {
        var issuer = Services.GetRequiredService<TokenIssuer>();
        var keys = Services.GetRequiredService<SigningKeyStore>();
        var request = new AccessTokenRequest("rotation-test", "rotation-client", "tenant-a", [Scopes.EmbedCreate]);
        var before = await issuer.IssueAsync(request);

        await keys.RotateAsync();
        var after = await issuer.IssueAsync(request);

        Assert.NotEqual(before.Kid, after.Kid);
        Assert.Equal(HttpStatusCode.OK, await EmbedAsync(before.AccessToken));
        Assert.Equal(HttpStatusCode.OK, await EmbedAsync(after.AccessToken));

        Assert.True(await keys.RemoveAsync(before.Kid));
        await keys.RefreshAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, await EmbedAsync(before.AccessToken));
        Assert.Equal(HttpStatusCode.OK, await EmbedAsync(after.AccessToken));
    }

    private async Task<HttpStatusCode> EmbedAsync(string token)
    {
        using var client = fixture.Cluster.CreateHttpClient(token);
        using var response = await client.PostAsJsonAsync("/v1/embeddings", new { model = "all-MiniLM-L6-v2", input = "rotation" });
        return response.StatusCode;
    }

    private static async Task ApproveAsync(HttpClient browser, string userCode, string username)
    {
        var page = await browser.GetStringAsync($"/oauth/device?user_code={Uri.EscapeDataString(userCode)}");
        var antiforgery = AntiforgeryField().Match(page);
        Assert.True(antiforgery.Success, "the approval page carries an antiforgery token");
        using var response = await browser.PostAsync("/oauth/device", Form(
            (antiforgery.Groups[1].Value, WebUtility.HtmlDecode(antiforgery.Groups[2].Value)),
            ("user_code", userCode),
            ("tenant", "tenant-a"),
            ("username", username),
            ("password", Password),
            ("decision", "approve")));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static async Task<string> PollUntilTokenAsync(HttpClient browser, string clientId, string deviceCode)
    {
        for (var attempt = 0; attempt < 30; attempt++)
        {
            await Task.Delay(TimeSpan.FromSeconds(1.1));
            using var response = await PollAsync(browser, clientId, deviceCode);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            if (response.StatusCode == HttpStatusCode.OK)
            {
                Assert.Equal("Bearer", body.GetProperty("token_type").GetString());
                return body.GetProperty("access_token").GetString()!;
            }

            var error = body.GetProperty("error").GetString();
            Assert.True(error is "authorization_pending" or "slow_down", error);
        }

        throw new TimeoutException("The device code was never exchanged for a token.");
    }

    private static Task<HttpResponseMessage> PollAsync(HttpClient browser, string clientId, string deviceCode) =>
        browser.PostAsync("/oauth/token", Form(
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"), ("device_code", deviceCode), ("client_id", clientId)));

    private static FormUrlEncodedContent Form(params (string Key, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value)));

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]+)\">")]
    private static partial Regex AntiforgeryField();
}
