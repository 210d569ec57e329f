using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Outpost.Identity;
using Xunit;

namespace Outpost.Gateway.Tests.Security;

/// <summary>
/// Thousands of malformed requests, with and without a valid token: every answer is a 4xx problem+json with one of the
/// gateway's own problem types (or a 2xx when chance produced a valid request), never a 5xx, and the gateway keeps
/// serving.
/// </summary>
[Collection(SecuredClusterCollection.Name)]
public sealed class FuzzTests(SecuredClusterFixture fixture)
{
    private const int Requests = 3000;

    private static readonly string[] Paths =
    [
        "/v1/embeddings", "/v1/infer", "/v1/devices", "/v1/devices/dev-pi-1", "/v1/devices/%00", "/v1/devices/..%2f..%2fetc",
        "/v1/nothing", "/", "/v1/embeddings/extra", "/v1/infer?x=" + new string('q', 200),
    ];

    [Fact]
    public async Task Gateway_ThousandsOfMalformedRequests_AnswersOnly4xxProblemJsonAndKeepsServing()
    {
        var random = new Random(20261125);
        var token = fixture.Cluster.IssueDevelopmentToken("fuzz", [.. Scopes.All]);
        using var authenticated = fixture.Cluster.CreateHttpClient(token);
        using var anonymous = fixture.Cluster.CreateHttpClient();
        var failures = new List<string>();
        var cases = Enumerable.Range(0, Requests).Select(i => (Index: i, Seed: random.Next())).ToList();

        await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (item, cancellationToken) =>
        {
            var rng = new Random(item.Seed);
            var client = rng.Next(4) == 0 ? anonymous : authenticated;
            using var request = Build(rng);
            var description = $"#{item.Index} {request.Method} {request.RequestUri}";
            try
            {
                using var response = await client.SendAsync(request, cancellationToken);
                var status = (int)response.StatusCode;
                var type = response.Content.Headers.ContentType?.MediaType;
                // A NUL in the path is refused by Kestrel's HTTP parser before the application sees the request; that
                // bare 400 is the protocol's answer, and the only one here not written by the gateway.
                var protocolError = status == 400 && request.RequestUri!.OriginalString.Contains("%00", StringComparison.Ordinal);
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                var ok = status is >= 200 and < 300
                    || (status is >= 400 and < 500 && ((type == "application/problem+json" && HasOutpostType(text)) || protocolError));
                if (!ok)
                {
                    lock (failures)
                    {
                        failures.Add($"{description} -> {status} {type}: {text}");
                    }
                }
            }
            catch (HttpRequestException ex)
            {
                lock (failures)
                {
                    failures.Add($"{description} -> connection failed: {ex.Message}");
                }
            }
        });

        Assert.True(failures.Count == 0, $"{failures.Count} bad answers, e.g.:\n{string.Join('\n', failures.Take(10))}");
        using var healthy = await authenticated.PostAsync(
            "/v1/embeddings", new StringContent("""{"model":"all-MiniLM-L6-v2","input":"still serving"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
    }

    // Every problem names one of the gateway's own types, never a generic one a client cannot switch on.
    private static bool HasOutpostType(string body)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(body);
            return document.RootElement.TryGetProperty("type", out var problemType)
                && problemType.GetString()?.StartsWith("https://outpost.dev/problems/", StringComparison.Ordinal) == true;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    private static HttpRequestMessage Build(Random rng)
    {
        var method = rng.Next(10) switch
        {
            0 => HttpMethod.Get,
            1 => HttpMethod.Put,
            2 => HttpMethod.Delete,
            3 => HttpMethod.Patch,
            _ => HttpMethod.Post,
        };
        var path = rng.Next(20) == 0 ? "/v1/" + new string('a', 5000) : Paths[rng.Next(Paths.Length)];
        var request = new HttpRequestMessage(method, path);
        if (rng.Next(25) == 0)
        {
            request.Headers.TryAddWithoutValidation("X-Padding", new string('h', 20_000));
        }

        if (method != HttpMethod.Get && method != HttpMethod.Delete)
        {
            var body = Body(rng);
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = rng.Next(8) == 0
                ? new MediaTypeHeaderValue("text/plain")
                : new MediaTypeHeaderValue("application/json");
        }

        return request;
    }

    /// <summary>Bodies that are almost right, or not JSON at all.</summary>
    private static byte[] Body(Random rng)
    {
        string text = rng.Next(20) switch
        {
            0 => "",
            1 => "{",
            2 => "null",
            3 => "[]",
            4 => """{"model":5,"input":"x"}""",
            5 => """{"model":"all-MiniLM-L6-v2","input":[1,2,3]}""",
            6 => """{"model":"all-MiniLM-L6-v2","input":""" + new string('[', 2000) + new string(']', 2000) + "}",
            7 => """{"model":"all-MiniLM-L6-v2","input":"x","dimensions":123456789012345678901234567890}""",
            8 => """{"task":"generate","payload":{"model":"qwen2.5:1.5b","prompt":"x","max_tokens":-1}}""",
            9 => """{"task":"embed","payload":"not an object"}""",
            10 => """{"task":"dance","payload":{}}""",
            11 => """{"model":"all-MiniLM-L6-v2","input":{"nested":true}}""",
            12 => """{"model":"nope","input":"x","encoding_format":"hex"}""",
            13 => """{"task":"generate","payload":{"model":"qwen2.5:1.5b","messages":[{"role":"robot","content":"x"}]}}""",
            14 => """{"model":"all-MiniLM-L6-v2","input":"x","encoding_format":1e999}""",
            15 => """{"model":"all-MiniLM-L6-v2","input":["x","\udc00y"]}""",
            16 => """{"task":"generate","payload":{"model":"qwen2.5:1.5b","prompt":"\ud83d","max_tokens":1e400}}""",
            _ => null!,
        };

        if (text is not null)
        {
            return Encoding.UTF8.GetBytes(text);
        }

        // Well-formed JSON whose string holds bytes that are not UTF-8 (a stray continuation byte, a truncated sequence).
        if (rng.Next(3) == 0)
        {
            var field = rng.Next(2) == 0 ? "{\"model\":\"all-MiniLM-L6-v2\",\"input\":\"" : "{\"task\":\"embed\",\"payload\":{\"model\":\"";
            var close = field.Contains("task", StringComparison.Ordinal) ? "\"}}" : "\"}";
            return [.. Encoding.UTF8.GetBytes(field), .. rng.Next(2) == 0 ? new byte[] { 0x80, 0x41 } : new byte[] { 0xE2, 0x82 }, .. Encoding.UTF8.GetBytes(close)];
        }

        // Random bytes, invalid UTF-8 included, sometimes wrapped to look like JSON.
        var bytes = new byte[rng.Next(1, 600)];
        rng.NextBytes(bytes);
        if (rng.Next(2) == 0)
        {
            bytes[0] = (byte)'{';
            bytes[^1] = (byte)'}';
        }

        return bytes;
    }
}
