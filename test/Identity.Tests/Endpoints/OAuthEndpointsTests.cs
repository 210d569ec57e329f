using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Outpost.Identity.Clients;
using Outpost.Testing.Identity;
using Outpost.Testing.PostgreSql;
using Xunit;

namespace Outpost.Identity.Tests.Endpoints;

/// <summary>The authorization server over HTTP on a real Kestrel: token endpoint, device flow, JWKS and metadata.</summary>
[Collection(IdentityCollection.Name)]
public sealed partial class OAuthEndpointsTests(PostgreSqlFixture fixture) : IAsyncLifetime
{
    private const string AdminPassword = "correct horse battery";
    private const string DeviceGrant = "urn:ietf:params:oauth:grant-type:device_code";

    private IdentityDatabase _database = null!;
    private IdentityTestHost _host = null!;
    private HttpClient _http = null!;
    private CreatedClient _machine = null!;
    private CreatedClient _desktop = null!;

    public async Task InitializeAsync()
    {
        _database = await IdentityDatabase.CreateAsync(fixture);
        await _database.Tenants().CreateAsync("acme", "Acme");
        await _database.Tenants().CreateAsync("globex", "Globex");
        await _database.Admins().CreateAsync("acme", "alice", AdminPassword);
        await _database.Admins().CreateAsync("globex", "gina", AdminPassword);
        _machine = await _database.Clients().CreateAsync("acme", "ci", ClientKind.Confidential, [Scopes.EmbedCreate, Scopes.InferCreate]);
        _desktop = await _database.Clients().CreateAsync("acme", "Cowork <desktop>", ClientKind.Public, [Scopes.EmbedCreate, Scopes.TasksRead]);
        _host = await IdentityTestHost.StartAsync(_database);
        _http = _host.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _host.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task ClientCredentials_BasicAuth_IssuesTokenForTenantWithRequestedScope()
    {
        using var request = TokenRequest(new() { ["grant_type"] = "client_credentials", ["scope"] = "embed:create" });
        request.Headers.Authorization = Basic(_machine.Client.ClientId, _machine.Secret!);

        using var response = await _http.SendAsync(request);

        var body = await ReadJsonAsync(response, HttpStatusCode.OK);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.Equal("Bearer", body.GetProperty("token_type").GetString());
        Assert.Equal("embed:create", body.GetProperty("scope").GetString());
        Assert.Equal(3600, body.GetProperty("expires_in").GetInt64());
        var jwt = await VerifyAsync(body.GetProperty("access_token").GetString()!);
        Assert.Equal("acme", jwt.GetClaim("tenant").Value);
        Assert.Equal(_machine.Client.ClientId, jwt.Subject);
        Assert.Equal("embed:create", jwt.GetClaim("scope").Value);
    }

    [Fact]
    public async Task ClientCredentials_BodyAuth_NoScope_GetsAllAllowedScopes()
    {
        using var response = await _http.SendAsync(TokenRequest(new()
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = _machine.Client.ClientId,
            ["client_secret"] = _machine.Secret!,
        }));

        var body = await ReadJsonAsync(response, HttpStatusCode.OK);
        Assert.Equal("embed:create infer:create", body.GetProperty("scope").GetString());
    }

    [Fact]
    public async Task ClientCredentials_WrongSecret_InvalidClient401WithBasicChallenge()
    {
        using var request = TokenRequest(new() { ["grant_type"] = "client_credentials" });
        request.Headers.Authorization = Basic(_machine.Client.ClientId, _machine.Secret! + "x");

        using var response = await _http.SendAsync(request);

        await AssertOAuthErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_client");
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Basic");
    }

    [Fact]
    public async Task ClientCredentials_NoClientAuthentication_InvalidClient()
    {
        using var response = await _http.SendAsync(TokenRequest(new() { ["grant_type"] = "client_credentials" }));

        await AssertOAuthErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_client");
    }

    [Fact]
    public async Task ClientCredentials_PublicClient_UnauthorizedClient()
    {
        using var response = await _http.SendAsync(TokenRequest(new() { ["grant_type"] = "client_credentials", ["client_id"] = _desktop.Client.ClientId }));

        await AssertOAuthErrorAsync(response, HttpStatusCode.BadRequest, "unauthorized_client");
    }

    [Theory]
    [InlineData("admin")]
    [InlineData("embed:create code:execute")]
    [InlineData("no-such-scope")]
    public async Task ClientCredentials_ScopeBeyondRegistration_InvalidScope(string scope)
    {
        using var response = await _http.SendAsync(TokenRequest(new()
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = _machine.Client.ClientId,
            ["client_secret"] = _machine.Secret!,
            ["scope"] = scope,
        }));

        await AssertOAuthErrorAsync(response, HttpStatusCode.BadRequest, "invalid_scope");
    }

    [Fact]
    public async Task Token_UnknownGrantType_UnsupportedGrantType()
    {
        using var response = await _http.SendAsync(TokenRequest(new() { ["grant_type"] = "password", ["username"] = "alice" }));

        await AssertOAuthErrorAsync(response, HttpStatusCode.BadRequest, "unsupported_grant_type");
    }

    [Fact]
    public async Task Token_JsonBody_InvalidRequest()
    {
        using var response = await _http.PostAsync("/oauth/token", new StringContent("""{"grant_type":"client_credentials"}""", Encoding.UTF8, "application/json"));

        await AssertOAuthErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task DeviceFlow_RequestApprovePoll_TokenBoundToApproversTenant()
    {
        var authorization = await RequestDeviceCodeAsync("embed:create");
        Assert.Matches("^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$", authorization.UserCode);
        Assert.Equal($"{_host.Issuer}/oauth/device", authorization.VerificationUri);
        Assert.Equal($"{_host.Issuer}/oauth/device?user_code={authorization.UserCode}", authorization.VerificationUriComplete);
        Assert.Equal(600, authorization.ExpiresIn);
        Assert.Equal(5, authorization.Interval);

        await AssertOAuthErrorAsync(await PollAsync(authorization.DeviceCode), HttpStatusCode.BadRequest, "authorization_pending");

        var page = await ApproveAsync(authorization.UserCode, "acme", "alice", AdminPassword, "approve");
        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Contains("approved", page.Html, StringComparison.OrdinalIgnoreCase);

        _database.Time.Advance(TimeSpan.FromSeconds(5));
        var body = await ReadJsonAsync(await PollAsync(authorization.DeviceCode), HttpStatusCode.OK);
        var jwt = await VerifyAsync(body.GetProperty("access_token").GetString()!);
        Assert.Equal("acme", jwt.GetClaim("tenant").Value);
        Assert.Equal("acme:alice", jwt.Subject);
        Assert.Equal(_desktop.Client.ClientId, jwt.GetClaim("client_id").Value);
        Assert.Equal("embed:create", jwt.GetClaim("scope").Value);

        // A code is good for one token.
        _database.Time.Advance(TimeSpan.FromSeconds(5));
        await AssertOAuthErrorAsync(await PollAsync(authorization.DeviceCode), HttpStatusCode.BadRequest, "invalid_grant");
    }

    [Fact]
    public async Task DeviceFlow_PolledTooFast_SlowDownAndIntervalGrows()
    {
        var authorization = await RequestDeviceCodeAsync(null);
        await AssertOAuthErrorAsync(await PollAsync(authorization.DeviceCode), HttpStatusCode.BadRequest, "authorization_pending");

        _database.Time.Advance(TimeSpan.FromSeconds(2));
        await AssertOAuthErrorAsync(await PollAsync(authorization.DeviceCode), HttpStatusCode.BadRequest, "slow_down");

        // The interval is now 10 seconds: 6 seconds later is too fast again (and it grows to 15); 15 seconds later is not.
        _database.Time.Advance(TimeSpan.FromSeconds(6));
        await AssertOAuthErrorAsync(await PollAsync(authorization.DeviceCode), HttpStatusCode.BadRequest, "slow_down");
        _database.Time.Advance(TimeSpan.FromSeconds(15));
        await AssertOAuthErrorAsync(await PollAsync(authorization.DeviceCode), HttpStatusCode.BadRequest, "authorization_pending");
    }

    [Fact]
    public async Task DeviceFlow_Expired_ExpiredTokenAndApprovalRefused()
    {
        var authorization = await RequestDeviceCodeAsync(null);

        _database.Time.Advance(TimeSpan.FromMinutes(10));

        await AssertOAuthErrorAsync(await PollAsync(authorization.DeviceCode), HttpStatusCode.BadRequest, "expired_token");
        var page = await ApproveAsync(authorization.UserCode, "acme", "alice", AdminPassword, "approve");
        Assert.Equal(HttpStatusCode.BadRequest, page.Status);
    }

    [Fact]
    public async Task DeviceFlow_Denied_AccessDenied()
    {
        var authorization = await RequestDeviceCodeAsync(null);

        var page = await ApproveAsync(authorization.UserCode, "acme", "alice", AdminPassword, "deny");

        Assert.Equal(HttpStatusCode.OK, page.Status);
        await AssertOAuthErrorAsync(await PollAsync(authorization.DeviceCode), HttpStatusCode.BadRequest, "access_denied");
    }

    [Fact]
    public async Task DeviceFlow_WrongPasswordOrOtherTenantsAdmin_NotApproved()
    {
        var authorization = await RequestDeviceCodeAsync(null);

        var wrongPassword = await ApproveAsync(authorization.UserCode, "acme", "alice", AdminPassword + "!", "approve");
        var otherTenant = await ApproveAsync(authorization.UserCode, "globex", "gina", AdminPassword, "approve");

        Assert.Equal(HttpStatusCode.Forbidden, wrongPassword.Status);
        Assert.Equal(HttpStatusCode.Forbidden, otherTenant.Status);
        await AssertOAuthErrorAsync(await PollAsync(authorization.DeviceCode), HttpStatusCode.BadRequest, "authorization_pending");
    }

    [Fact]
    public async Task DeviceFlow_OtherClientsDeviceCode_InvalidGrant()
    {
        var other = await _database.Clients().CreateAsync("acme", "other", ClientKind.Public, [Scopes.EmbedCreate]);
        var authorization = await RequestDeviceCodeAsync(null);

        using var response = await _http.SendAsync(TokenRequest(new()
        {
            ["grant_type"] = DeviceGrant,
            ["device_code"] = authorization.DeviceCode,
            ["client_id"] = other.Client.ClientId,
        }));

        await AssertOAuthErrorAsync(response, HttpStatusCode.BadRequest, "invalid_grant");
    }

    [Fact]
    public async Task DeviceAuthorization_ScopeBeyondRegistration_InvalidScope()
    {
        using var response = await _http.SendAsync(DeviceAuthorizationRequest("embed:create admin"));

        await AssertOAuthErrorAsync(response, HttpStatusCode.BadRequest, "invalid_scope");
    }

    [Fact]
    public async Task DevicePage_PostWithoutAntiforgeryToken_Refused()
    {
        var authorization = await RequestDeviceCodeAsync(null);
        using var fresh = _host.CreateClient();

        using var response = await fresh.PostAsync("/oauth/device", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["user_code"] = authorization.UserCode,
            ["tenant"] = "acme",
            ["username"] = "alice",
            ["password"] = AdminPassword,
            ["decision"] = "approve",
        }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await AssertOAuthErrorAsync(await PollAsync(authorization.DeviceCode), HttpStatusCode.BadRequest, "authorization_pending");
    }

    [Fact]
    public async Task DevicePage_EncodesEverything_AndForbidsFramingAndScripts()
    {
        var authorization = await RequestDeviceCodeAsync(null);

        using var response = await _http.GetAsync($"/oauth/device?user_code={authorization.UserCode}");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Cowork &lt;desktop&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<desktop>", html, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);

        using var hostile = await _http.GetAsync("/oauth/device?user_code=%22%3E%3Cscript%3Ealert(1)%3C/script%3E");
        Assert.DoesNotContain("<script>", await hostile.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metadata_Rfc8414Fields()
    {
        using var response = await _http.GetAsync("/.well-known/oauth-authorization-server");

        var body = await ReadJsonAsync(response, HttpStatusCode.OK);
        var issuer = _host.Issuer;
        Assert.Equal(issuer, body.GetProperty("issuer").GetString());
        Assert.Equal($"{issuer}/oauth/token", body.GetProperty("token_endpoint").GetString());
        Assert.Equal($"{issuer}/oauth/device_authorization", body.GetProperty("device_authorization_endpoint").GetString());
        Assert.Equal($"{issuer}/.well-known/jwks.json", body.GetProperty("jwks_uri").GetString());
        var grants = body.GetProperty("grant_types_supported").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal(["client_credentials", DeviceGrant], grants);
        var scopes = body.GetProperty("scopes_supported").EnumerateArray().Select(e => e.GetString()!).ToHashSet();
        Assert.True(Scopes.All.SetEquals(scopes));
        var methods = body.GetProperty("token_endpoint_auth_methods_supported").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains("client_secret_basic", methods);
        Assert.Contains("client_secret_post", methods);
    }

    [Fact]
    public async Task Jwks_PublicKeysOnly()
    {
        var json = await _http.GetStringAsync("/.well-known/jwks.json");

        using var document = JsonDocument.Parse(json);
        var key = Assert.Single(document.RootElement.GetProperty("keys").EnumerateArray());
        Assert.Equal("EC", key.GetProperty("kty").GetString());
        Assert.Equal("ES256", key.GetProperty("alg").GetString());
        Assert.False(key.TryGetProperty("d", out _));
    }

    private async Task<DeviceAuthorizationBody> RequestDeviceCodeAsync(string? scope)
    {
        using var response = await _http.SendAsync(DeviceAuthorizationRequest(scope));
        var body = await ReadJsonAsync(response, HttpStatusCode.OK);
        return new DeviceAuthorizationBody(
            body.GetProperty("device_code").GetString()!,
            body.GetProperty("user_code").GetString()!,
            body.GetProperty("verification_uri").GetString()!,
            body.GetProperty("verification_uri_complete").GetString()!,
            body.GetProperty("expires_in").GetInt32(),
            body.GetProperty("interval").GetInt32());
    }

    private HttpRequestMessage DeviceAuthorizationRequest(string? scope)
    {
        var form = new Dictionary<string, string> { ["client_id"] = _desktop.Client.ClientId };
        if (scope is not null)
        {
            form["scope"] = scope;
        }

        return new HttpRequestMessage(HttpMethod.Post, "/oauth/device_authorization") { Content = new FormUrlEncodedContent(form) };
    }

    private Task<HttpResponseMessage> PollAsync(string deviceCode) =>
        _http.SendAsync(TokenRequest(new()
        {
            ["grant_type"] = DeviceGrant,
            ["device_code"] = deviceCode,
            ["client_id"] = _desktop.Client.ClientId,
        }));

    /// <summary>Loads the approval page as a browser would (which sets the antiforgery cookie) and submits its form.</summary>
    private async Task<(HttpStatusCode Status, string Html)> ApproveAsync(string userCode, string tenant, string username, string password, string decision)
    {
        var page = await _http.GetStringAsync($"/oauth/device?user_code={Uri.EscapeDataString(userCode)}");
        var token = AntiforgeryField().Match(page);
        Assert.True(token.Success, "the page carries an antiforgery token");
        using var response = await _http.PostAsync("/oauth/device", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            [token.Groups[1].Value] = WebUtility.HtmlDecode(token.Groups[2].Value),
            ["user_code"] = userCode,
            ["tenant"] = tenant,
            ["username"] = username,
            ["password"] = password,
            ["decision"] = decision,
        }));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<JsonWebToken> VerifyAsync(string token)
    {
        var jwks = new JsonWebKeySet(await _http.GetStringAsync("/.well-known/jwks.json"));
        var result = await TokenVerification.ValidateAsync(token, jwks.GetSigningKeys(), _host.Issuer, "outpost");
        Assert.True(result.IsValid, result.Exception?.Message);
        return (JsonWebToken)result.SecurityToken;
    }

    private static HttpRequestMessage TokenRequest(Dictionary<string, string> form) =>
        new(HttpMethod.Post, "/oauth/token") { Content = new FormUrlEncodedContent(form) };

    private static AuthenticationHeaderValue Basic(string id, string secret) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(id)}:{Uri.EscapeDataString(secret)}")));

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task AssertOAuthErrorAsync(HttpResponseMessage response, HttpStatusCode status, string error)
    {
        using (response)
        {
            var body = await ReadJsonAsync(response, status);
            Assert.Equal(error, body.GetProperty("error").GetString());
            Assert.False(string.IsNullOrEmpty(body.GetProperty("error_description").GetString()));
            Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        }
    }

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]+)\">")]
    private static partial Regex AntiforgeryField();

    private sealed record DeviceAuthorizationBody(string DeviceCode, string UserCode, string VerificationUri, string VerificationUriComplete, int ExpiresIn, int Interval);
}
