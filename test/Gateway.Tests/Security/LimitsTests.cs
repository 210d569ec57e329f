using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Outpost.Identity;
using Outpost.Testing.Cluster;
using Outpost.Testing.Hailo;
using Xunit;

namespace Outpost.Gateway.Tests.Security;

/// <summary>
/// The gateway's request limits over real HTTP: a per-client token bucket, body caps per endpoint (with or without a
/// Content-Length), URL and header sizes, and the request timeout, each refused as problem+json. Every test calls under
/// client ids of its own, because the bucket is per client and the fixture's is small.
/// </summary>
[Collection(LimitsClusterCollection.Name)]
public sealed class LimitsTests(LimitsClusterFixture fixture)
{
    private OutpostCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task RateLimit_SameClientIdInTwoTenants_EachTenantHasItsOwnBucket()
    {
        // A public client (an agent signing in by device flow) has one client id for every tenant that uses it.
        var clientId = $"limits-public-{Guid.NewGuid():N}";
        using var first = Cluster.CreateHttpClient(Cluster.IssueDevelopmentToken("bucket-one", [Scopes.Admin], clientId: clientId));
        using var second = Cluster.CreateHttpClient(Cluster.IssueDevelopmentToken("bucket-two", [Scopes.Admin], clientId: clientId));

        var spent = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => first.GetAsync(new Uri("/v1/devices", UriKind.Relative))));
        using var other = await second.GetAsync(new Uri("/v1/devices", UriKind.Relative));
        try
        {
            Assert.Contains(spent, r => r.StatusCode == HttpStatusCode.TooManyRequests);
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        }
        finally
        {
            foreach (var response in spent)
            {
                response.Dispose();
            }
        }
    }

    [Fact]
    public async Task RateLimit_ClientExceedsItsBurst_Returns429ProblemWithRetryAfterWhileAnotherClientIsServed()
    {
        using var hasty = Client("hasty", Scopes.Admin);
        using var patient = Client("patient", Scopes.Admin);

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => hasty.GetAsync(new Uri("/v1/devices", UriKind.Relative))));
        using var other = await patient.GetAsync(new Uri("/v1/devices", UriKind.Relative));
        try
        {
            var statuses = string.Join(", ", responses.Select(r => (int)r.StatusCode));
            Assert.True(responses.All(r => r.StatusCode is HttpStatusCode.OK or HttpStatusCode.TooManyRequests), $"Statuses: {statuses}");
            Assert.True(responses.Any(r => r.StatusCode == HttpStatusCode.OK), $"No request was served; statuses: {statuses}");
            var limited = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
            Assert.True(limited.Count > 0, $"No request was limited; statuses: {statuses}");
            foreach (var response in limited)
            {
                await InferenceApi.AssertProblemAsync(response, HttpStatusCode.TooManyRequests, "rate-limited");
                var retryAfter = Assert.Single(response.Headers.GetValues("Retry-After"));
                Assert.True(
                    int.TryParse(retryAfter, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0,
                    $"Retry-After is not a positive number of seconds: '{retryAfter}'.");
            }

            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }

    [Fact]
    public async Task BodyLimit_SameBodyToInferAndEmbeddings_InferRefused413AndEmbeddingsServed()
    {
        var id = Guid.NewGuid().ToString("N");
        var inputs = Enumerable.Range(0, 80).Select(i => $"limits {i} {id}: a short sentence for the body size test").ToArray();
        var embeddingsBody = JsonSerializer.Serialize(new { model = LimitsClusterFixture.EmbeddingModel, input = inputs });
        var inferBody = JsonSerializer.Serialize(new { task = "embed", payload = new { model = LimitsClusterFixture.EmbeddingModel, input = inputs } });
        AssertBetweenTheLimits(embeddingsBody);
        AssertBetweenTheLimits(inferBody);
        using var inferClient = Client("infer-body", Scopes.EmbedCreate);
        using var embeddingsClient = Client("embeddings-body", Scopes.EmbedCreate);

        using var infer = await PostAsync(inferClient, "/v1/infer", Json(inferBody));
        using var embeddings = await PostAsync(embeddingsClient, "/v1/embeddings", Json(embeddingsBody));

        await InferenceApi.AssertProblemAsync(infer, HttpStatusCode.RequestEntityTooLarge, "payload-too-large");
        await InferenceApi.ReadReplyAsync(embeddings, inputs.Length);
    }

    [Fact]
    public async Task BodyLimit_EmbeddingsBodyOverEmbeddingsLimit_Returns413Problem()
    {
        var id = Guid.NewGuid().ToString("N");
        var inputs = Enumerable.Range(0, 200).Select(i => $"{i} {id} " + new string('x', 400)).ToArray();
        var body = JsonSerializer.Serialize(new { model = LimitsClusterFixture.EmbeddingModel, input = inputs });
        Assert.True(Encoding.UTF8.GetByteCount(body) > LimitsClusterFixture.MaxEmbeddingsBodyBytes);
        using var client = Client("embeddings-over", Scopes.EmbedCreate);

        using var response = await PostAsync(client, "/v1/embeddings", Json(body));

        await InferenceApi.AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "payload-too-large");
    }

    [Fact]
    public async Task BodyLimit_ChunkedBodyOverLimit_Returns413ProblemWhileSmallChunkedBodyIsServed()
    {
        var id = Guid.NewGuid().ToString("N");
        var large = InferEmbedBody(Enumerable.Range(0, 150).Select(i => $"chunked {i} {id}: a sentence that adds up").ToArray());
        var small = InferEmbedBody([$"chunked small {id}"]);
        Assert.True(Encoding.UTF8.GetByteCount(large) > LimitsClusterFixture.MaxRequestBodyBytes);
        using var largeContent = new UnknownLengthContent(large);
        using var smallContent = new UnknownLengthContent(small);
        Assert.Null(largeContent.Headers.ContentLength);
        using var largeClient = Client("chunked-large", Scopes.EmbedCreate);
        using var smallClient = Client("chunked-small", Scopes.EmbedCreate);

        using var refused = await PostAsync(largeClient, "/v1/infer", largeContent);
        using var served = await PostAsync(smallClient, "/v1/infer", smallContent);

        await InferenceApi.AssertProblemAsync(refused, HttpStatusCode.RequestEntityTooLarge, "payload-too-large");
        var servedBody = await served.Content.ReadAsStringAsync();
        Assert.True(served.StatusCode == HttpStatusCode.OK, $"Expected 200, got {(int)served.StatusCode}: {servedBody}");
    }

    [Theory]
    [InlineData("path")]
    [InlineData("query")]
    public async Task UrlLimit_PathAndQueryOverLimit_Returns414ProblemNamingTheLimit(string where)
    {
        using var client = Client("url-" + where, Scopes.Admin);
        var underLimit = "/v1/devices?pad=" + new string('a', 400);
        var overLimit = where == "path" ? "/v1/devices/" + new string('a', 600) : "/v1/devices?pad=" + new string('a', 600);
        Assert.InRange(underLimit.Length, 1, LimitsClusterFixture.MaxUrlLength);

        using var served = await client.GetAsync(new Uri(underLimit, UriKind.Relative));
        using var refused = await client.GetAsync(new Uri(overLimit, UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        var problem = await InferenceApi.AssertProblemAsync(refused, HttpStatusCode.RequestUriTooLong, "uri-too-long");
        Assert.Contains(LimitsClusterFixture.MaxUrlLength.ToString(CultureInfo.InvariantCulture), problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HeaderLimit_HeadersOverLimit_Returns431ProblemNamingTheLimit()
    {
        using var client = Client("headers", Scopes.Admin);
        using var modest = new HttpRequestMessage(HttpMethod.Get, new Uri("/v1/devices", UriKind.Relative));
        modest.Headers.Add("X-Padding", new string('h', 1000));
        using var oversized = new HttpRequestMessage(HttpMethod.Get, new Uri("/v1/devices", UriKind.Relative));
        oversized.Headers.Add("X-Padding", new string('h', LimitsClusterFixture.MaxHeaderBytes + 1));

        using var served = await client.SendAsync(modest);
        using var refused = await client.SendAsync(oversized);

        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        var problem = await InferenceApi.AssertProblemAsync(refused, HttpStatusCode.RequestHeaderFieldsTooLarge, "headers-too-large");
        Assert.Contains(LimitsClusterFixture.MaxHeaderBytes.ToString(CultureInfo.InvariantCulture), problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HeaderLimit_HeadersManyTimesOverLimit_StillProblemJson()
    {
        // 100 KiB: over what Kestrel accepted by default (64 KiB here), which answered a bare 431.
        using var client = Client("headers-large", Scopes.Admin);
        using var oversized = new HttpRequestMessage(HttpMethod.Get, new Uri("/v1/devices", UriKind.Relative));
        oversized.Headers.Add("X-Padding", new string('h', 100 * 1024));

        using var refused = await client.SendAsync(oversized);

        var problem = await InferenceApi.AssertProblemAsync(refused, HttpStatusCode.RequestHeaderFieldsTooLarge, "headers-too-large");
        Assert.Contains(LimitsClusterFixture.MaxHeaderBytes.ToString(CultureInfo.InvariantCulture), problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HeaderCount_OverLimit_Returns431ProblemNamingTheCount()
    {
        using var client = Client("headers-many", Scopes.Admin);
        using var many = new HttpRequestMessage(HttpMethod.Get, new Uri("/v1/devices", UriKind.Relative));
        for (var i = 0; i < 150; i++)
        {
            many.Headers.Add($"X-H{i}", "v");
        }

        using var refused = await client.SendAsync(many);

        var problem = await InferenceApi.AssertProblemAsync(refused, HttpStatusCode.RequestHeaderFieldsTooLarge, "headers-too-large");
        Assert.Contains("at most 100 header fields", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HeaderLimit_AboveKestrelsCeiling_RefusedBeforeTheApplicationWithABare431()
    {
        // What the README says cannot be problem+json: past the server's own ceiling the request never reaches the
        // pipeline, and Kestrel answers with a status line and no body.
        using var client = Client("headers-ceiling", Scopes.Admin);
        using var huge = new HttpRequestMessage(HttpMethod.Get, new Uri("/v1/devices", UriKind.Relative));
        huge.Headers.Add("X-Padding", new string('h', Outpost.Gateway.Security.LimitsExtensions.MinHeaderBytesCeiling + 1024));

        using var refused = await client.SendAsync(huge);

        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, refused.StatusCode);
        Assert.Empty(await refused.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task RequestTimeout_GenerationOutlastsTimeout_Returns504Problem()
    {
        using var client = Client("slow", Scopes.InferCreate);
        var prompt = string.Join(' ', Enumerable.Range(0, 30).Select(i => $"word{i}"));
        var body = JsonSerializer.Serialize(new { task = "generate", payload = new { model = FakeHailoOllamaServer.DefaultModel, prompt, max_tokens = 64 } });

        // Thirty tokens a second apart take almost four times the gateway's timeout.
        fixture.Hailo.TokenDelay = TimeSpan.FromSeconds(1);
        try
        {
            using var response = await PostAsync(client, "/v1/infer", Json(body));

            await InferenceApi.AssertProblemAsync(response, HttpStatusCode.GatewayTimeout, "request-timeout");
        }
        finally
        {
            fixture.Hailo.TokenDelay = TimeSpan.FromMilliseconds(1);
        }
    }

    [Fact]
    public async Task Generation_OutlastsTheClusterResponseTimeout_IsServedWhole()
    {
        using var client = Client("patient", Scopes.InferCreate);
        var body = JsonSerializer.Serialize(new
        {
            task = "generate",
            payload = new { model = FakeHailoOllamaServer.DefaultModel, prompt = "one two three four five six", max_tokens = 5 },
        });

        // Five tokens 0.8 s apart: past the 3 s grain-call timeout, well inside the 8 s request timeout.
        fixture.Hailo.TokenDelay = TimeSpan.FromMilliseconds(800);
        try
        {
            using var response = await PostAsync(client, "/v1/infer", Json(body));

            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"Expected 200, got {(int)response.StatusCode}: {text}");
            using var document = JsonDocument.Parse(text);
            Assert.Equal(5, document.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        }
        finally
        {
            fixture.Hailo.TokenDelay = TimeSpan.FromMilliseconds(1);
        }
    }

    private static void AssertBetweenTheLimits(string body) =>
        Assert.InRange(Encoding.UTF8.GetByteCount(body), LimitsClusterFixture.MaxRequestBodyBytes + 1, LimitsClusterFixture.MaxEmbeddingsBodyBytes);

    private static string InferEmbedBody(string[] inputs) =>
        JsonSerializer.Serialize(new { task = "embed", payload = new { model = LimitsClusterFixture.EmbeddingModel, input = inputs } });

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, string path, HttpContent content) =>
        client.PostAsync(new Uri(path, UriKind.Relative), content);

    private HttpClient Client(string name, params string[] scopes) => Cluster.CreateHttpClient(
        Cluster.IssueDevelopmentToken(OutpostCluster.DefaultTenant, scopes, clientId: $"limits-{name}-{Guid.NewGuid():N}"));

    /// <summary>A JSON body whose length the client does not know in advance, so it goes out chunked.</summary>
    private sealed class UnknownLengthContent : HttpContent
    {
        private readonly byte[] _bytes;

        public UnknownLengthContent(string json)
        {
            _bytes = Encoding.UTF8.GetBytes(json);
            Headers.ContentType = new("application/json");
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(_bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
