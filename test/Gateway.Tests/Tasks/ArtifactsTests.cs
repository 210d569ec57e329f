using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Xunit;

namespace Outpost.Gateway.Tests.Tasks;

/// <summary><c>PUT /v1/artifacts</c> and <c>GET /v1/artifacts/{digest}</c> over HTTP: streamed, capped, per tenant.</summary>
[Collection(TaskClusterCollection.Name)]
public sealed class ArtifactsTests(TaskClusterFixture fixture)
{
    [Fact]
    public async Task Upload_SeveralMegabytes_AnswersItsDigestAndDownloadsTheSameBytes()
    {
        using var agent = fixture.Agent("artifact-agent");
        var content = RandomNumberGenerator.GetBytes(5 * 1024 * 1024 + 17);
        var digest = await TaskClusterFixture.UploadAsync(agent, content);
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(content)), digest);

        using var response = await agent.GetAsync(new Uri($"/v1/artifacts/{digest}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(content.Length, response.Content.Headers.ContentLength);
        Assert.Equal(content, await response.Content.ReadAsByteArrayAsync());

        // The same bytes again are the same artifact.
        Assert.Equal(digest, await TaskClusterFixture.UploadAsync(agent, content));
    }

    [Fact]
    public async Task Upload_PastTheLimit_Is413AndStoresNothing()
    {
        using var agent = fixture.Agent("artifact-agent");
        var content = RandomNumberGenerator.GetBytes((int)TaskClusterFixture.MaxArtifactBytes + 1);
        using var body = new StreamContent(new MemoryStream(content));
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await agent.PutAsync(new Uri("/v1/artifacts", UriKind.Relative), body);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.EndsWith("/artifact-too-large", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString(), StringComparison.Ordinal);

        using var missing = await agent.GetAsync(new Uri($"/v1/artifacts/sha256:{Convert.ToHexStringLower(SHA256.HashData(content))}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Download_AnotherTenantsArtifact_Is404()
    {
        using var agent = fixture.Agent("artifact-owner");
        var digest = await TaskClusterFixture.UploadAsync(agent, RandomNumberGenerator.GetBytes(1000));
        using var other = fixture.Cluster.CreateHttpClient(fixture.Cluster.IssueDevelopmentToken("other-tenant", ["tasks:read", "code:execute"], clientId: "artifact-thief"));
        using var response = await other.GetAsync(new Uri($"/v1/artifacts/{digest}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);

        // Nor can it name the artifact as an input of its own task.
        var (status, problem) = await TaskClusterFixture.SubmitAsync(other, new { kind = "unit-test", argv = new[] { "true" }, inputs = new[] { new { digest, path = "x" } } });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.EndsWith("/artifact-not-found", problem.GetProperty("type").GetString(), StringComparison.Ordinal);
    }
}
