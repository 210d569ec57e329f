using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Outpost.Identity.Tokens;
using Outpost.ServiceDefaults.Configuration;
using Outpost.Testing.Identity;
using Outpost.Testing.PostgreSql;
using Xunit;

namespace Outpost.Identity.Tests.Tokens;

/// <summary>
/// Tokens of an external identity provider, its keys served from a JWKS on loopback, verified by
/// <see cref="TokenValidationExtensions.AddOutpostTokenValidation"/>: they may claim only the tenants the provider is
/// configured for, <c>system</c> only when listed, and every tenant claim must be a well-formed tenant id.
/// </summary>
[Collection(IdentityCollection.Name)]
public sealed class ExternalIssuerTests(PostgreSqlFixture fixture) : IAsyncLifetime, IDisposable
{
    private const string ExternalIssuer = "https://idp.example.test/realms/outpost";
    private readonly ECDsa _idpKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private IdentityDatabase _database = null!;
    private WebApplication _jwks = null!;
    private WebApplication _api = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _database = await IdentityDatabase.CreateAsync(fixture);
        _jwks = await StartJwksAsync();
        _api = await StartApiAsync(["acme"]);
        _http = new HttpClient { BaseAddress = new Uri(_api.Urls.First()) };

        // The provider's keys are read in the background at start: wait until a good token passes.
        for (var attempt = 0; attempt < 100 && await StatusAsync(Token("acme")) != HttpStatusCode.OK; attempt++)
        {
            await Task.Delay(100);
        }
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        await _jwks.DisposeAsync();
        await _database.DisposeAsync();
    }

    public void Dispose()
    {
        _http.Dispose();
        _idpKey.Dispose();
    }

    [Fact]
    public async Task ConfiguredTenant_Accepted()
    {
        using var response = await SendAsync(Token("acme"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("acme", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("system", "The token's issuer may not act for its tenant.")] // the operators, not listed
    [InlineData("globex", "The token's issuer may not act for its tenant.")] // another tenant
    [InlineData("Acme_Corp", "The token's tenant claim is not a valid tenant id.")]
    [InlineData("../acme", "The token's tenant claim is not a valid tenant id.")]
    public async Task OtherTenant_Refused(string tenant, string reason)
    {
        using var response = await SendAsync(Token(tenant));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains(reason, response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SystemListed_Accepted()
    {
        await using var api = await StartApiAsync(["acme", "system"]);
        using var http = new HttpClient { BaseAddress = new Uri(api.Urls.First()) };
        var status = HttpStatusCode.Unauthorized;
        for (var attempt = 0; attempt < 100 && status != HttpStatusCode.OK; attempt++)
        {
            using var request = Request(Token("system"));
            using var response = await http.SendAsync(request);
            status = response.StatusCode;
            await Task.Delay(status == HttpStatusCode.OK ? 0 : 100);
        }

        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Theory]
    [InlineData(new string[0], "Security:ExternalTenants is missing")]
    [InlineData(new[] { "Not Valid" }, "Security:ExternalTenants: 'Not Valid' is not a valid tenant id.")]
    public void ExternalIssuerWithoutValidTenants_StopsAtStart(string[] tenants, string message)
    {
        var error = Assert.Throws<StartupConfigurationException>(() => Builder(tenants).AddOutpostTokenValidation());

        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    private async Task<HttpStatusCode> StatusAsync(string token)
    {
        using var response = await SendAsync(token);
        return response.StatusCode;
    }

    private Task<HttpResponseMessage> SendAsync(string token) => _http.SendAsync(Request(token));

    private static HttpRequestMessage Request(string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/whoami");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    private string Token(string tenant)
    {
        var key = new ECDsaSecurityKey(_idpKey) { KeyId = "idp-1" };
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = ExternalIssuer,
            Audience = "outpost",
            Expires = DateTime.UtcNow.AddMinutes(5),
            Claims = new Dictionary<string, object> { [OutpostClaims.Tenant] = tenant, [OutpostClaims.Subject] = "alice", [OutpostClaims.Scope] = "admin" },
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.EcdsaSha256),
        });
    }

    private async Task<WebApplication> StartJwksAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var q = _idpKey.ExportParameters(includePrivateParameters: false).Q;
        var jwks = $$"""{"keys":[{"kty":"EC","crv":"P-256","use":"sig","alg":"ES256","kid":"idp-1","x":"{{Base64UrlEncoder.Encode(q.X)}}","y":"{{Base64UrlEncoder.Encode(q.Y)}}"}]}""";
        app.MapGet("/jwks", () => Results.Text(jwks, "application/json"));
        await app.StartAsync();
        return app;
    }

    private async Task<WebApplication> StartApiAsync(string[] tenants)
    {
        var builder = Builder(tenants);
        builder.Services.AddSingleton(_database.DataSource);
        builder.AddOutpostTokenValidation(events => events.OnChallenge = context =>
        {
            // The reason, where a test can read it; the gateway's own challenge is tested with the gateway.
            context.HandleResponse();
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = context.AuthenticateFailure is { } failure ? TokenValidationExtensions.Describe(failure) : "none";
            return Task.CompletedTask;
        });
        builder.Services.AddAuthorization();
        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapGet("/whoami", (ClaimsPrincipal user) => user.FindFirstValue(OutpostClaims.Tenant)).RequireAuthorization();
        await app.StartAsync();
        return app;
    }

    private WebApplicationBuilder Builder(string[] tenants)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var settings = new Dictionary<string, string?>
        {
            ["Security:Issuer"] = "http://outpost.test",
            ["Security:MasterKeyFile"] = _database.Security.MasterKeyFile,
            ["Security:CreateMasterKeyFile"] = "true",
            ["Security:ExternalJwksUrl"] = _jwks is null ? "http://127.0.0.1:9/jwks" : new Uri(new Uri(_jwks.Urls.First()), "/jwks").ToString(),
            ["Security:ExternalIssuer"] = ExternalIssuer,
        };
        for (var i = 0; i < tenants.Length; i++)
        {
            settings[$"Security:ExternalTenants:{i}"] = tenants[i];
        }

        builder.Configuration.AddInMemoryCollection(settings);
        return builder;
    }
}
