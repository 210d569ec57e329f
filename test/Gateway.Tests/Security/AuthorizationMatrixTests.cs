using System.Net;
using System.Text;
using Outpost.Gateway.Identity;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.Gateway.Tests.Security;

/// <summary>Every endpoint against every kind of credential: only a valid token with the endpoint's scope gets through.</summary>
[Collection(SecuredClusterCollection.Name)]
public sealed class AuthorizationMatrixTests(SecuredClusterFixture fixture)
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var endpoint in Endpoints.Keys)
        {
            foreach (var credential in new[] { "none", "expired", "wrong-audience", "wrong-issuer", "bad-signature", "alg-none", "missing-scope", "right-scope" })
            {
                data.Add(endpoint, credential);
            }
        }

        return data;
    }

    /// <summary>Each endpoint with a valid request and the scope it needs.</summary>
    private static readonly Dictionary<string, (HttpMethod Method, string Path, string? Body, string Scope)> Endpoints = new()
    {
        ["embeddings"] = (HttpMethod.Post, "/v1/embeddings", """{"model":"all-MiniLM-L6-v2","input":"matrix"}""", Scopes.EmbedCreate),
        ["infer-embed"] = (HttpMethod.Post, "/v1/infer", """{"task":"embed","payload":{"model":"all-MiniLM-L6-v2","input":"matrix"}}""", Scopes.EmbedCreate),
        ["infer-generate"] = (HttpMethod.Post, "/v1/infer", """{"task":"generate","payload":{"model":"qwen2.5:1.5b","prompt":"hi","max_tokens":4}}""", Scopes.InferCreate),
        ["devices"] = (HttpMethod.Get, "/v1/devices", null, Scopes.Admin),
        ["device"] = (HttpMethod.Get, "/v1/devices/dev-pi-1", null, Scopes.Admin),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Endpoint_WithCredential_GetsExactlyTheExpectedStatus(string endpoint, string credential)
    {
        var (method, path, body, scope) = Endpoints[endpoint];
        var cluster = fixture.Cluster;
        var token = credential switch
        {
            "none" => null,
            "expired" => Token(DateTime.UtcNow.AddHours(-2), scope),
            "wrong-audience" => DevelopmentTokens.Create(cluster.DevelopmentKey, OutpostCluster.Issuer, "someone-else", OutpostCluster.DefaultTenant, [scope], TimeSpan.FromHours(1), "c"),
            "wrong-issuer" => DevelopmentTokens.Create(cluster.DevelopmentKey, "http://evil.test", OutpostCluster.Audience, OutpostCluster.DefaultTenant, [scope], TimeSpan.FromHours(1), "c"),
            "bad-signature" => DevelopmentTokens.Create(new byte[32], OutpostCluster.Issuer, OutpostCluster.Audience, OutpostCluster.DefaultTenant, [scope], TimeSpan.FromHours(1), "c"),
            "alg-none" => Unsigned(scope),
            "missing-scope" => Token(DateTime.UtcNow, Scopes.All.Where(s => s != scope).ToArray()),
            "right-scope" => Token(DateTime.UtcNow, scope),
            _ => throw new ArgumentOutOfRangeException(nameof(credential)),
        };

        using var client = cluster.CreateHttpClient(token);
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        switch (credential)
        {
            case "right-scope":
                Assert.True(response.IsSuccessStatusCode, $"{endpoint}: {(int)response.StatusCode} {text}");
                break;
            case "missing-scope":
                Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
                var challenge = response.Headers.WwwAuthenticate.ToString();
                Assert.Contains("error=\"insufficient_scope\"", challenge, StringComparison.Ordinal);
                Assert.Contains($"scope=\"{scope}\"", challenge, StringComparison.Ordinal);
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                break;
            default:
                Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
                Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                if (credential != "none")
                {
                    Assert.Contains("error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
                }

                break;
        }

        string Token(DateTime issuedAt, params string[] scopes) =>
            DevelopmentTokens.Create(cluster.DevelopmentKey, OutpostCluster.Issuer, OutpostCluster.Audience, OutpostCluster.DefaultTenant, scopes, TimeSpan.FromHours(1), "c", issuedAt);
    }

    /// <summary>A token whose header says <c>alg: none</c> and that carries no signature, with otherwise valid claims.</summary>
    private static string Unsigned(string scope)
    {
        static string Encode(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = Encode("""{"alg":"none","typ":"at+jwt"}""");
        var payload = Encode($$"""{"iss":"{{OutpostCluster.Issuer}}","aud":"{{OutpostCluster.Audience}}","sub":"c","client_id":"c","tenant":"{{OutpostCluster.DefaultTenant}}","scope":"{{scope}}","iat":{{now}},"nbf":{{now}},"exp":{{now + 3600}}}""");
        return $"{header}.{payload}.";
    }
}
