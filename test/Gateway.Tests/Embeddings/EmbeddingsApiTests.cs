using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Embeddings;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.Gateway.Tests.Embeddings;

[Collection("cluster")]
public sealed class EmbeddingsApiTests(OutpostClusterFixture fixture) : IAsyncLifetime
{
    private const double SameVector = 1e-5;

    private OutpostCluster Cluster => fixture.Cluster;

    public Task InitializeAsync() => InferenceApi.WaitUntilServedAsync(Cluster.Http, "/v1/embeddings", InferenceApi.WarmUpEmbedding());

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task GenerateEmbeddingAsync_OpenAiSdkReferenceSentence_MatchesReferenceVector()
    {
        var client = CreateOpenAiClient();

        var result = await client.GenerateEmbeddingAsync(InferenceApi.ReferenceSentence);

        var vector = result.Value.ToFloats().ToArray();
        Assert.Equal(InferenceApi.Dimensions, vector.Length);
        InferenceApi.AssertClose(InferenceApi.ReferencePrefix, vector[..InferenceApi.ReferencePrefix.Length], 1e-4, "reference sentence");
        var norm = Math.Sqrt(vector.Sum(v => (double)v * v));
        Assert.InRange(norm, 1 - 1e-4, 1 + 1e-4);
    }

    [Fact]
    public async Task GenerateEmbeddingsAsync_OpenAiSdkThreeTexts_ReturnsVectorsInOrderEqualToSingleRequests()
    {
        var client = CreateOpenAiClient();
        var id = Guid.NewGuid().ToString("N");
        string[] texts = [$"The cat sat on the mat {id}", $"Quarterly revenue grew by eight percent {id}", $"How do I reset my router? {id}"];

        var result = await client.GenerateEmbeddingsAsync(texts);

        // Unique texts: the device computed them all in this request, none came from the cache.
        Assert.Equal("miss", Header(result.GetRawResponse(), "X-Outpost-Cache"));
        Assert.Equal(texts.Length, result.Value.Count);
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(i, result.Value[i].Index);
            var alone = await InferenceApi.EmbedOnDeviceAsync(Cluster.Client, "dev-pi-1", texts[i]);
            InferenceApi.AssertClose(alone, result.Value[i].ToFloats().ToArray(), SameVector, $"text {i}");
        }

        // The texts are far apart, so a mix-up of the order could not pass as equal.
        Assert.True(Distance(result.Value[0].ToFloats().ToArray(), result.Value[1].ToFloats().ToArray()) > 0.1);
    }

    [Fact]
    public async Task CreateEmbeddings_FloatAndBase64_DecodeToSameVector()
    {
        var text = "float and base64 " + Guid.NewGuid().ToString("N");

        var asFloats = await InferenceApi.EmbedAsync(Cluster.Http, [text], "float");
        var asBase64 = await InferenceApi.EmbedAsync(Cluster.Http, [text], "base64");
        var byDefault = await InferenceApi.EmbedAsync(Cluster.Http, [text]);

        Assert.Equal(InferenceApi.Dimensions, asFloats.Vectors[0].Length);
        InferenceApi.AssertClose(asFloats.Vectors[0], asBase64.Vectors[0], 0, "base64 against float");
        InferenceApi.AssertClose(asFloats.Vectors[0], byDefault.Vectors[0], 0, "default against float");
    }

    [Fact]
    public async Task CreateEmbeddings_Base64_IsRawLittleEndianFloat32()
    {
        var text = "base64 wire format " + Guid.NewGuid().ToString("N");
        using var response = await InferenceApi.PostEmbeddingsAsync(Cluster.Http, [text], "base64");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        var embedding = document.RootElement.GetProperty("data")[0].GetProperty("embedding");

        Assert.Equal(JsonValueKind.String, embedding.ValueKind);
        Assert.Equal(InferenceApi.Dimensions * sizeof(float), Convert.FromBase64String(embedding.GetString()!).Length);
    }

    [Fact]
    public async Task CreateEmbeddings_ReferenceSentence_CountsSevenPromptTokensComputedAndCached()
    {
        // Lower case: the same seven tokens (the tokenizer lower-cases), but a cache key no other test uses, so the
        // first answer is computed on a device and the second comes from the cache.
        const string text = "this is an example sentence";

        var computed = await InferenceApi.EmbedAsync(Cluster.Http, [text]);
        var cached = await InferenceApi.EmbedAsync(Cluster.Http, [text]);

        Assert.Equal("miss", computed.Cache);
        Assert.Equal(7, computed.PromptTokens);
        Assert.Equal(7, computed.TotalTokens);
        Assert.Equal("hit", cached.Cache);
        Assert.Equal(7, cached.PromptTokens);
        Assert.Equal(7, cached.TotalTokens);
        InferenceApi.AssertClose(InferenceApi.ReferencePrefix, computed.Vectors[0][..5], 1e-4, "lower-case reference sentence");
    }

    [Fact]
    public async Task CreateEmbeddings_Dimensions384_IsAccepted()
    {
        var json = JsonSerializer.Serialize(new { model = InferenceApi.Model, input = "dimensions " + Guid.NewGuid().ToString("N"), dimensions = 384 });

        using var response = await InferenceApi.PostJsonAsync(Cluster.Http, "/v1/embeddings", json);

        var reply = await InferenceApi.ReadReplyAsync(response, 1);
        Assert.Equal(InferenceApi.Dimensions, reply.Vectors[0].Length);
    }

    [Theory]
    [InlineData("""{"model":"all-MiniLM-L6-v2"}""", "input is required.")]
    [InlineData("""{"model":"all-MiniLM-L6-v2","input":null}""", "input is required.")]
    [InlineData("""{"model":"all-MiniLM-L6-v2","input":""}""", "input must not be an empty string.")]
    [InlineData("""{"model":"all-MiniLM-L6-v2","input":["a","b",""]}""", "input[2] must not be an empty string.")]
    [InlineData("""{"model":"all-MiniLM-L6-v2","input":[]}""", "input must not be empty.")]
    [InlineData("""{"model":"all-MiniLM-L6-v2","input":[1,2,3]}""", "input[0] is a token array")]
    [InlineData("""{"model":"all-MiniLM-L6-v2","input":[[1,2],[3]]}""", "input[0] is a token array")]
    [InlineData("""{"model":"all-MiniLM-L6-v2","input":5}""", "input must be a string or an array of strings.")]
    [InlineData("""{"model":"all-MiniLM-L6-v2","input":["ok",{"text":"x"}]}""", "input[1] must be a string.")]
    [InlineData("""{"input":"hello"}""", "model is required.")]
    [InlineData("""{"model":"","input":"hello"}""", "model is required.")]
    [InlineData("""{"model":"all-MiniLM-L6-v2","input":"hello","encoding_format":"hex"}""", "encoding_format must be 'float' or 'base64'.")]
    [InlineData("""{"model":"all-MiniLM-L6-v2","input":"hello","dimensions":100}""", "dimensions 100 is not supported")]
    public async Task CreateEmbeddings_InvalidRequest_Returns400NamingTheField(string json, string detail)
    {
        using var response = await InferenceApi.PostJsonAsync(Cluster.Http, "/v1/embeddings", json);

        var problem = await InferenceApi.AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-request");
        Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"model":5,"input":"hello"}""")]
    [InlineData("""{"model":"all-MiniLM-L6-v2","input":"hello","dimensions":"many"}""")]
    [InlineData("""{"model":"all-MiniLM-L6-v2","input":"hello","encoding_format":1}""")]
    [InlineData("""{"model":"all-MiniLM-L6-v2","input":"hello" """)]
    [InlineData("""[]""")]
    public async Task CreateEmbeddings_MalformedJson_Returns400ProblemJson(string json)
    {
        using var response = await InferenceApi.PostJsonAsync(Cluster.Http, "/v1/embeddings", json);

        await InferenceApi.AssertProblemAsync(response, HttpStatusCode.BadRequest, type: null);
    }

    [Fact]
    public async Task CreateEmbeddings_ModelOfWrongJsonType_Returns400WithOutpostProblemType()
    {
        using var response = await InferenceApi.PostJsonAsync(Cluster.Http, "/v1/embeddings", """{"model":5,"input":"hello"}""");

        // Clients switch on the type: a body the gateway cannot bind is still one of Outpost's problems, and says why.
        var problem = await InferenceApi.AssertProblemAsync(response, HttpStatusCode.BadRequest, type: null);
        Assert.StartsWith(InferenceApi.ProblemTypeBase, problem.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.True(problem.TryGetProperty("detail", out var detail) && !string.IsNullOrEmpty(detail.GetString()), $"No detail: {problem}");
    }

    [Fact]
    public async Task CreateEmbeddings_MoreInputsThanAllowed_Returns400NamingTheLimit()
    {
        var texts = Enumerable.Range(0, 513).Select(i => $"item {i}");

        using var response = await InferenceApi.PostEmbeddingsAsync(Cluster.Http, texts);

        var problem = await InferenceApi.AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-request");
        Assert.Equal("input has 513 items; at most 512 are allowed per request.", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task CreateEmbeddings_TextLongerThanWindow_Returns400NamingTheWindow()
    {
        var words = string.Join(' ', Enumerable.Range(0, 2000).Select(i => (i % 4) switch { 0 => "apple", 1 => "river", 2 => "stone", _ => "cloud" }));

        using var response = await InferenceApi.PostEmbeddingsAsync(Cluster.Http, ["short text", words]);

        var problem = await InferenceApi.AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-request");
        var detail = problem.GetProperty("detail").GetString();
        Assert.StartsWith("input[1] is ", detail, StringComparison.Ordinal);
        Assert.EndsWith("tokens; all-MiniLM-L6-v2 reads at most 256 tokens per input.", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateEmbeddings_UnknownModel_Returns404ModelNotFound()
    {
        var json = JsonSerializer.Serialize(new { model = "text-embedding-3-small", input = "hello" });

        using var response = await InferenceApi.PostJsonAsync(Cluster.Http, "/v1/embeddings", json);

        var problem = await InferenceApi.AssertProblemAsync(response, HttpStatusCode.NotFound, "model-not-found");
        var detail = problem.GetProperty("detail").GetString();
        Assert.Contains("text-embedding-3-small", detail, StringComparison.Ordinal);
        Assert.Contains(InferenceApi.Model, detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateEmbeddings_SameTextTwice_SecondComesFromCache()
    {
        var text = "cache me " + Guid.NewGuid().ToString("N");

        var first = await InferenceApi.EmbedAsync(Cluster.Http, [text]);
        var second = await InferenceApi.EmbedAsync(Cluster.Http, [text]);

        Assert.Equal("miss", first.Cache);
        Assert.StartsWith("dev-pi-", first.Device, StringComparison.Ordinal);
        Assert.Equal("hit", second.Cache);
        Assert.Equal("cache", second.Device);

        // Server-Timing says where the time went: a miss waited for its device, a hit for nothing but the cache.
        Assert.True(first.Timings["device"] > 0 && first.Timings["cache"] > 0, string.Join(", ", first.Timings));
        Assert.Equal(0, second.Timings["device"]);
        Assert.True(second.Timings["cache"] > 0, string.Join(", ", second.Timings));
        InferenceApi.AssertClose(first.Vectors[0], second.Vectors[0], 0, "cached vector");
        Assert.Equal(first.PromptTokens, second.PromptTokens);
    }

    [Fact]
    public async Task CreateEmbeddings_OneCachedOneNewText_IsPartialAndKeepsOrder()
    {
        var id = Guid.NewGuid().ToString("N");
        var cachedText = "already seen " + id;
        var newText = "never seen before " + id;
        var cached = await InferenceApi.EmbedAsync(Cluster.Http, [cachedText]);

        var mixed = await InferenceApi.EmbedAsync(Cluster.Http, [newText, cachedText]);

        Assert.Equal("partial", mixed.Cache);
        Assert.StartsWith("dev-pi-", mixed.Device, StringComparison.Ordinal);
        InferenceApi.AssertClose(cached.Vectors[0], mixed.Vectors[1], 0, "cached text");
        var alone = await InferenceApi.EmbedOnDeviceAsync(Cluster.Client, mixed.Device, newText);
        InferenceApi.AssertClose(alone, mixed.Vectors[0], SameVector, "new text");
        Assert.Equal(cached.PromptTokens + (await InferenceApi.EmbedAsync(Cluster.Http, [newText])).PromptTokens, mixed.PromptTokens);
    }

    [Fact]
    public async Task CreateEmbeddings_64ConcurrentRequestsWithDistinctTexts_EachGetsExactlyItsOwnVectors()
    {
        var requests = Enumerable.Range(0, 64)
            .Select(r => Enumerable.Range(0, 1 + (r % 4)).Select(t => Text(r, t)).ToArray())
            .ToList();

        using var http = InferenceApi.ClientFor(Cluster, "isolation-" + Guid.NewGuid().ToString("N"));

        var replies = await Task.WhenAll(requests.Select(texts => InferenceApi.EmbedAsync(http, texts)));

        for (var r = 0; r < requests.Count; r++)
        {
            Assert.Equal("miss", replies[r].Cache);
            for (var t = 0; t < requests[r].Length; t++)
            {
                var alone = await InferenceApi.EmbedOnDeviceAsync(Cluster.Client, replies[r].Device, requests[r][t]);
                InferenceApi.AssertClose(alone, replies[r].Vectors[t], SameVector, $"request {r} text {t} (served by {replies[r].Device})");
            }
        }

        static string Text(int request, int text)
        {
            // Different lengths and topics, so a vector that strayed into another request could not look right.
            var topics = new[] { "weather in the mountains", "a recipe for bread", "the history of Rome", "fixing a bicycle chain", "stock market news" };
            var builder = new StringBuilder($"request {request} text {text} {Guid.NewGuid():N} about {topics[(request + text) % topics.Length]}");
            for (var i = 0; i < (request * 7 + text * 3) % 12; i++)
            {
                builder.Append(" and more");
            }

            return builder.ToString();
        }
    }

    [Fact]
    public async Task CreateEmbeddings_200ConcurrentRequests_AreSpreadOverBothDevices()
    {
        var id = Guid.NewGuid().ToString("N");
        using var http = InferenceApi.ClientFor(Cluster, "spread-" + id);

        var replies = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => InferenceApi.EmbedAsync(http, [$"spread {i} {id}"])));

        var devices = replies.GroupBy(r => r.Device).ToDictionary(g => g.Key, g => g.Count());
        var summary = string.Join(", ", devices.Select(d => $"{d.Key}={d.Value}"));
        Assert.True(devices.ContainsKey("dev-pi-1") && devices.ContainsKey("dev-pi-2"), $"Served by: {summary}");
        Assert.All(replies, r => Assert.Equal("miss", r.Cache));
    }

    private EmbeddingClient CreateOpenAiClient() =>
        new OpenAIClient(new ApiKeyCredential(InferenceApi.TokenFor(Cluster, "openai-sdk")), new OpenAIClientOptions { Endpoint = new Uri(Cluster.Http.BaseAddress!, "/v1") })
            .GetEmbeddingClient(InferenceApi.Model);

    private static string Header(System.ClientModel.Primitives.PipelineResponse response, string name) =>
        response.Headers.TryGetValue(name, out var value) ? value ?? "" : "";

    private static double Distance(float[] a, float[] b) => Math.Sqrt(a.Zip(b, (x, y) => (double)(x - y) * (x - y)).Sum());
}
