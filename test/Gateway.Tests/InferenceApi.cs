using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Outpost.Gateway.Tests.Embeddings;
using Outpost.Grains.EdgeDevices;
using Outpost.Grains.Inference;
using Outpost.Identity;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.Gateway.Tests;

/// <summary>Calls the gateway's inference endpoints over HTTP the way a client would, and checks what comes back.</summary>
internal static class InferenceApi
{
    public const string Model = "all-MiniLM-L6-v2";

    public const int Dimensions = 384;

    public const string ReferenceSentence = "This is an example sentence";

    public const string ProblemTypeBase = "https://outpost.dev/problems/";

    /// <summary>The first values of the reference sentence's vector, as sentence-transformers computes them.</summary>
    public static readonly float[] ReferencePrefix = [0.06766f, 0.06350f, 0.04871f, 0.07930f, 0.03745f];


    /// <summary>
    /// A token for the cluster's default tenant with the inference scopes, under its own client id: the gateway's rate
    /// limit is per client, so a test that sends a burst must not share its bucket with the other tests.
    /// </summary>
    public static string TokenFor(OutpostCluster cluster, string clientId) =>
        cluster.IssueDevelopmentToken(OutpostCluster.DefaultTenant, [Scopes.EmbedCreate, Scopes.InferCreate], clientId: clientId);

    /// <summary>An HTTP client of its own (see <see cref="TokenFor"/>).</summary>
    public static HttpClient ClientFor(OutpostCluster cluster, string clientId) => cluster.CreateHttpClient(TokenFor(cluster, clientId));

    public static Task<HttpResponseMessage> PostJsonAsync(HttpClient http, string path, string json) =>
        http.PostAsync(new Uri(path, UriKind.Relative), new StringContent(json, Encoding.UTF8, "application/json"));

    public static Task<HttpResponseMessage> PostEmbeddingsAsync(HttpClient http, IEnumerable<string> texts, string? encodingFormat = null) =>
        PostJsonAsync(http, "/v1/embeddings", JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["model"] = Model,
            ["input"] = texts.ToArray(),
            ["encoding_format"] = encodingFormat,
        }));

    /// <summary>Embeds <paramref name="texts"/> through the gateway and fails the test unless the answer is a well-formed 200.</summary>
    public static async Task<EmbeddingsReply> EmbedAsync(HttpClient http, IReadOnlyList<string> texts, string? encodingFormat = null)
    {
        using var response = await PostEmbeddingsAsync(http, texts, encodingFormat);
        return await ReadReplyAsync(response, texts.Count);
    }

    /// <summary>Reads a 200 answer of <c>/v1/embeddings</c>, checking its envelope, and fails with the body otherwise.</summary>
    public static async Task<EmbeddingsReply> ReadReplyAsync(HttpResponseMessage response, int expectedCount)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"Expected 200, got {(int)response.StatusCode}: {body}");
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        Assert.Equal("list", root.GetProperty("object").GetString());
        Assert.Equal(Model, root.GetProperty("model").GetString());
        var data = root.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(expectedCount, data.Count);
        var vectors = new float[data.Count][];
        for (var i = 0; i < data.Count; i++)
        {
            Assert.Equal("embedding", data[i].GetProperty("object").GetString());
            Assert.Equal(i, data[i].GetProperty("index").GetInt32());
            vectors[i] = Decode(data[i].GetProperty("embedding"));
        }

        var usage = root.GetProperty("usage");
        return new EmbeddingsReply(
            vectors,
            Header(response, "X-Outpost-Device"),
            Header(response, "X-Outpost-Cache"),
            usage.GetProperty("prompt_tokens").GetInt32(),
            usage.GetProperty("total_tokens").GetInt32(),
            Timings(response));
    }

    /// <summary>The <c>Server-Timing</c> metrics of a response: name to <c>dur</c>.</summary>
    public static Dictionary<string, double> Timings(HttpResponseMessage response)
    {
        var timings = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var metric in response.Headers.TryGetValues("Server-Timing", out var values) ? values.SelectMany(v => v.Split(',')) : [])
        {
            var parts = metric.Trim().Split(';');
            if (parts.Skip(1).FirstOrDefault(p => p.StartsWith("dur=", StringComparison.Ordinal)) is { } duration)
            {
                timings[parts[0]] = double.Parse(duration[4..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return timings;
    }

    /// <summary>A float array, or base64 of little-endian float32 values, as OpenAI's API sends them.</summary>
    public static float[] Decode(JsonElement embedding)
    {
        if (embedding.ValueKind == JsonValueKind.Array)
        {
            return embedding.EnumerateArray().Select(value => value.GetSingle()).ToArray();
        }

        Assert.Equal(JsonValueKind.String, embedding.ValueKind);
        var bytes = Convert.FromBase64String(embedding.GetString()!);
        Assert.Equal(0, bytes.Length % sizeof(float));
        var vector = new float[bytes.Length / sizeof(float)];
        for (var i = 0; i < vector.Length; i++)
        {
            vector[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * sizeof(float)));
        }

        return vector;
    }

    /// <summary>
    /// The vector of one text computed by <paramref name="deviceId"/> alone, straight through its device grain: no
    /// gateway, no cache, no other request in the same call.
    /// </summary>
    public static async Task<float[]> EmbedOnDeviceAsync(IClusterClient client, string deviceId, string text)
    {
        var result = await client.GetGrain<IEdgeDeviceGrain>(deviceId).EmbedAsync(new EmbeddingRequest(Model, [text]));
        Assert.Equal(deviceId, result.DeviceId);
        return Assert.Single(result.Vectors);
    }

    /// <summary>Fails unless the vectors have the same length and differ by at most <paramref name="tolerance"/> anywhere.</summary>
    public static void AssertClose(IReadOnlyList<float> expected, IReadOnlyList<float> actual, double tolerance, string what)
    {
        Assert.True(expected.Count == actual.Count, $"{what}: expected {expected.Count} values, got {actual.Count}.");
        var worst = 0.0;
        var at = -1;
        for (var i = 0; i < expected.Count; i++)
        {
            var difference = Math.Abs((double)expected[i] - actual[i]);
            if (difference > worst)
            {
                (worst, at) = (difference, i);
            }
        }

        Assert.True(
            worst <= tolerance,
            string.Create(CultureInfo.InvariantCulture, $"{what}: value {at} differs by {worst:G3} (expected {(at < 0 ? 0 : expected[at])}, got {(at < 0 ? 0 : actual[at])}); tolerance {tolerance:G3}."));
    }

    /// <summary>Checks a problem+json answer's status and type and returns its body.</summary>
    public static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string? type)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(body);
        var problem = document.RootElement.Clone();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        if (type is not null)
        {
            Assert.Equal(ProblemTypeBase + type, problem.GetProperty("type").GetString());
        }

        Assert.False(body.Contains("   at ", StringComparison.Ordinal), $"The problem carries a stack trace: {body}");
        return problem;
    }

    /// <summary>
    /// Waits until the gateway routes <paramref name="path"/> requests successfully: its device catalog is refreshed
    /// in the background, so a cluster that has just started may not know its devices' models yet.
    /// </summary>
    public static async Task WaitUntilServedAsync(HttpClient http, string path, string json, int attempts = 100)
    {
        var last = "";
        for (var attempt = 0; attempt < attempts; attempt++)
        {
            using var response = await PostJsonAsync(http, path, json);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return;
            }

            last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            await Task.Delay(100);
        }

        Assert.Fail($"The gateway did not serve {path} after {attempts} attempts; last answer: {last}");
    }

    /// <summary>A warm-up request for <see cref="WaitUntilServedAsync"/>: one short embedding.</summary>
    public static string WarmUpEmbedding() =>
        JsonSerializer.Serialize(new { model = Model, input = "warm-up " + Guid.NewGuid().ToString("N") });

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : "";
}
