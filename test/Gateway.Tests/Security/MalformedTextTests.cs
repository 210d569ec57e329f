using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Outpost.Identity;
using Xunit;

namespace Outpost.Gateway.Tests.Security;

/// <summary>
/// Valid JSON whose text does not decode: bytes that are not UTF-8 inside a string, <c>\u</c> escapes of unpaired
/// surrogates, and numbers out of range. Every field reader on every endpoint answers 400 naming the field, in
/// problem+json (Anthropic's error shape on <c>/v1/messages</c>), never 500.
/// </summary>
[Collection(SecuredClusterCollection.Name)]
public sealed class MalformedTextTests(SecuredClusterFixture fixture)
{
    /// <summary>Stands for two bytes that are never UTF-8 (0xFF 0xFE) in the templates; <c>\ud800</c> in them is a lone surrogate.</summary>
    private const string BadBytes = "<ff fe>";

    public static TheoryData<string, string, string> Cases => new()
    {
        // Embeddings: OpenAI's string-or-array input is read by hand, the rest is bound to a record.
        { "/v1/embeddings", """{"model":"all-MiniLM-L6-v2","input":"ab<ff fe>"}""", "input" },
        { "/v1/embeddings", """{"model":"all-MiniLM-L6-v2","input":"\ud800"}""", "input" },
        { "/v1/embeddings", """{"model":"all-MiniLM-L6-v2","input":["fine","x\ud800"]}""", "input[1]" },
        { "/v1/embeddings", """{"model":"all-MiniLM-L6-v2","input":["fine","<ff fe>"]}""", "input[1]" },
        { "/v1/embeddings", """{"model":"<ff fe>","input":"x"}""", "model" },
        { "/v1/embeddings", """{"model":"all-MiniLM-L6-v2","input":"x","user":"\ud800"}""", "user" },
        { "/v1/embeddings", """{"model":"all-MiniLM-L6-v2","input":"x","dimensions":1e400}""", "dimensions" },

        // The infer endpoint's payload is read field by field.
        { "/v1/infer", """{"task":"embed","payload":{"model":"all-MiniLM-L6-v2","input":"<ff fe>"}}""", "payload.input" },
        { "/v1/infer", """{"task":"embed","payload":{"model":"all-MiniLM-L6-v2\ud800","input":"x"}}""", "payload.model" },
        { "/v1/infer", """{"task":"<ff fe>","payload":{}}""", "task" },
        { "/v1/infer", """{"task":"generate","payload":{"model":"m","prompt":"\ud800"}}""", "payload.prompt" },
        { "/v1/infer", """{"task":"generate","payload":{"model":"m","system":"<ff fe>","prompt":"x"}}""", "payload.system" },
        { "/v1/infer", """{"task":"generate","payload":{"model":"m","messages":[{"role":"user","content":"<ff fe>"}]}}""", "payload.messages[0].content" },
        { "/v1/infer", """{"task":"generate","payload":{"model":"m","prompt":"x","stop":["\ud800"]}}""", "payload.stop[0]" },
        { "/v1/infer", """{"task":"generate","payload":{"model":"m","prompt":"x","max_tokens":1e400}}""", "payload.max_tokens" },
        { "/v1/infer", """{"task":"generate","payload":{"model":"m","prompt":"x","temperature":1e400}}""", "payload.temperature" },

        // The Anthropic Messages API, in Anthropic's error shape.
        { "/v1/messages", """{"model":"<ff fe>","max_tokens":5,"messages":[{"role":"user","content":"x"}]}""", "model" },
        { "/v1/messages", """{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"\ud800"}]}""", "messages.0.content" },
        { "/v1/messages", """{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":"<ff fe>"}]}]}""", "messages.0.content.0.text" },
        { "/v1/messages", """{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":5,"text":"x"}]}]}""", "messages.0.content.0.type" },
        { "/v1/messages", """{"model":"m","max_tokens":5,"messages":[{"role":"\ud800","content":"x"}]}""", "messages.0.role" },
        { "/v1/messages", """{"model":"m","max_tokens":5,"system":"<ff fe>","messages":[{"role":"user","content":"x"}]}""", "system" },
        { "/v1/messages", """{"model":"m","max_tokens":5,"stop_sequences":["\ud800"],"messages":[{"role":"user","content":"x"}]}""", "stop_sequences" },
        { "/v1/messages", """{"model":"m","max_tokens":5,"temperature":1e400,"messages":[{"role":"user","content":"x"}]}""", "temperature" },
        { "/v1/messages", """{"model":"m","max_tokens":1e400,"messages":[{"role":"user","content":"x"}]}""", "max_tokens" },

        // Records bound by the framework: the admin API.
        { "/v1/admin/tenants", """{"tenant_id":"<ff fe>"}""", "tenant_id" },
        { "/v1/admin/tenants", """{"tenant_id":"acme","display_name":"\ud800"}""", "display_name" },
        { "PUT /v1/admin/tenants/fuzz/limits", """{"budget_micros":1e400,"period":"monthly","requests_per_minute":0,"tokens_per_minute":0}""", "budget_micros" },
        { "PUT /v1/admin/tenants/fuzz/audit", """{"retention_days":99999999999999999999}""", "retention_days" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task UndecodableText_Answers400NamingTheField(string target, string template, string field)
    {
        var (method, path) = target.StartsWith("PUT ", StringComparison.Ordinal) ? (HttpMethod.Put, target[4..]) : (HttpMethod.Post, target);
        var tenant = path.StartsWith("/v1/admin/", StringComparison.Ordinal) ? OutpostClaims.SystemTenant : "fuzz";
        using var http = fixture.Cluster.CreateHttpClient(fixture.Cluster.IssueDevelopmentToken(tenant, [.. Scopes.All]));
        using var request = new HttpRequestMessage(method, path) { Content = new ByteArrayContent(Bytes(template)) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {body}");
        using var document = JsonDocument.Parse(body);
        string detail;
        if (path == "/v1/messages")
        {
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("invalid_request_error", document.RootElement.GetProperty("error").GetProperty("type").GetString());
            detail = document.RootElement.GetProperty("error").GetProperty("message").GetString()!;
        }
        else
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            detail = document.RootElement.GetProperty("detail").GetString()!;
        }

        Assert.Contains(field, detail, StringComparison.Ordinal);
    }

    /// <summary>The template as UTF-8, with each <see cref="BadBytes"/> replaced by the bytes 0xFF 0xFE.</summary>
    private static byte[] Bytes(string template)
    {
        var parts = template.Split(BadBytes);
        var bytes = new List<byte>();
        for (var i = 0; i < parts.Length; i++)
        {
            if (i > 0)
            {
                bytes.AddRange([0xFF, 0xFE]);
            }

            bytes.AddRange(Encoding.UTF8.GetBytes(parts[i]));
        }

        return [.. bytes];
    }
}
