using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Outpost.Identity.Tokens;
using Outpost.Testing.Identity;
using Outpost.Testing.PostgreSql;
using Xunit;

namespace Outpost.Identity.Tests.Tokens;

[Collection(IdentityCollection.Name)]
public sealed class TokenIssuerTests(PostgreSqlFixture fixture) : IAsyncLifetime
{
    private IdentityDatabase _database = null!;

    public async Task InitializeAsync() => _database = await IdentityDatabase.CreateAsync(fixture);

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task Issue_Rfc9068Claims_TypAndKidHeaders()
    {
        var store = _database.CreateSigningKeyStore();
        var issuer = _database.CreateTokenIssuer(store);

        var issued = await issuer.IssueAsync(new AccessTokenRequest("oc_1", "oc_1", "acme", [Scopes.InferCreate, Scopes.EmbedCreate]));

        var jwt = new JsonWebToken(issued.AccessToken);
        Assert.Equal("at+jwt", jwt.Typ);
        Assert.Equal("ES256", jwt.Alg);
        Assert.Equal((await store.GetSigningKeyAsync()).Key.KeyId, jwt.Kid);
        Assert.Equal("https://outpost.test", jwt.Issuer);
        Assert.Equal(["outpost"], jwt.Audiences);
        Assert.Equal("oc_1", jwt.Subject);
        Assert.Equal("oc_1", jwt.GetClaim("client_id").Value);
        Assert.Equal("acme", jwt.GetClaim("tenant").Value);
        Assert.Equal("embed:create infer:create", jwt.GetClaim("scope").Value);
        Assert.Equal(issued.TokenId, jwt.Id);
        Assert.Equal(_database.Time.GetUtcNow().UtcDateTime, jwt.IssuedAt);
        Assert.Equal(jwt.IssuedAt, jwt.ValidFrom);
        Assert.Equal(jwt.IssuedAt + _database.Security.AccessTokenLifetime, jwt.ValidTo);
    }

    [Fact]
    public async Task Issue_VerifiesAgainstPublishedJwks_AndTamperingFails()
    {
        await using var host = await IdentityTestHost.StartAsync(_database);
        using var http = host.CreateClient();
        var issuer = host.Services.GetRequiredService<TokenIssuer>();
        var issued = await issuer.IssueAsync(new AccessTokenRequest("oc_1", "oc_1", "acme", [Scopes.EmbedCreate]));

        var jwks = new JsonWebKeySet(await http.GetStringAsync("/.well-known/jwks.json"));
        var result = await TokenVerification.ValidateAsync(issued.AccessToken, jwks.GetSigningKeys(), host.Issuer, "outpost");
        Assert.True(result.IsValid, result.Exception?.Message);

        var parts = issued.AccessToken.Split('.');
        var forgedPayload = Base64UrlEncoder.Encode(JsonSerializer.Serialize(new { sub = "oc_1", tenant = "globex", iss = host.Issuer, aud = "outpost", exp = 4102444800 }));
        var forged = $"{parts[0]}.{forgedPayload}.{parts[2]}";
        Assert.False((await TokenVerification.ValidateAsync(forged, jwks.GetSigningKeys(), host.Issuer, "outpost")).IsValid);
        Assert.False((await TokenVerification.ValidateAsync(issued.AccessToken, jwks.GetSigningKeys(), host.Issuer, "someone-else")).IsValid);
    }
}
