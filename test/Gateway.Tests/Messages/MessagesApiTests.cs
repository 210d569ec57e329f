using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Anthropic;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using Outpost.Identity;
using Outpost.Testing.Anthropic;
using Xunit;

namespace Outpost.Gateway.Tests.Messages;

/// <summary>
/// <c>POST /v1/messages</c> with Anthropic's official SDK as the client: edge and cloud models, streamed or not, and
/// the usage the SDK reports is exactly what the spend ledger charged.
/// </summary>
public sealed class MessagesApiTests(MessagesClusterFixture fixture) : IClassFixture<MessagesClusterFixture>
{
    private const string Prompt = "hello from the official sdk";

    [Fact]
    public async Task Create_CloudModel_UsageReportedEqualsLedgerCharge()
    {
        const string Tenant = "msg-cloud";
        await fixture.CreateTenantAsync(Tenant, cloudAllowed: true);
        var token = Token(Tenant);

        var message = await Sdk(token).Messages.Create(Params(MessagesClusterFixture.CloudModel));

        Assert.Equal($"{FakeAnthropicServer.ReplyPrefix} {Prompt}", TextOf(message.RawData["content"]));
        Assert.Equal(FakeAnthropicServer.Words(Prompt), message.Usage.InputTokens);
        Assert.Equal(FakeAnthropicServer.Words(FakeAnthropicServer.ReplyPrefix + " " + Prompt), message.Usage.OutputTokens);
        var row = Assert.Single(await fixture.LedgerAsync(Tenant));
        Assert.Equal(("messages", $"cloud:{MessagesClusterFixture.CloudModel}"), (row.Kind, row.Target));
        Assert.Equal((message.Usage.InputTokens, message.Usage.OutputTokens), (row.InputTokens, row.OutputTokens));
        Assert.Equal(
            (message.Usage.InputTokens * MessagesClusterFixture.InputMicrosPerToken) + (message.Usage.OutputTokens * MessagesClusterFixture.OutputMicrosPerToken),
            row.CostMicros);
    }

    [Fact]
    public async Task Create_CloudModel_SendsTheUpstreamKeyNotTheCallersToken()
    {
        const string Tenant = "msg-keys";
        await fixture.CreateTenantAsync(Tenant, cloudAllowed: true);
        var token = Token(Tenant);

        await Sdk(token).Messages.Create(Params(MessagesClusterFixture.CloudModel));

        var headers = fixture.Anthropic.LastRequestHeaders;
        var sent = headers.TryGetValue("x-api-key", out var apiKey) ? apiKey : headers["authorization"];
        Assert.EndsWith(MessagesClusterFixture.UpstreamKey, sent, StringComparison.Ordinal);
        Assert.DoesNotContain(headers.Values, value => value.Contains(token, StringComparison.Ordinal));
        Assert.DoesNotContain(token, fixture.Anthropic.LastRequestBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateStreaming_CloudModel_ReemitsTheStreamAndChargesTheReportedUsage()
    {
        const string Tenant = "msg-cloud-stream";
        await fixture.CreateTenantAsync(Tenant, cloudAllowed: true);

        var (text, types, input, output, stopReason) = await StreamAsync(Token(Tenant), MessagesClusterFixture.CloudModel);

        Assert.Equal($"{FakeAnthropicServer.ReplyPrefix} {Prompt}", text);
        Assert.Equal("end_turn", stopReason);
        Assert.Equal("message_start", types[0]);
        Assert.Equal("message_stop", types[^1]);
        Assert.Contains("content_block_stop", types);
        var row = Assert.Single(await fixture.LedgerAsync(Tenant));
        Assert.Equal((input, output), (row.InputTokens, row.OutputTokens));
        Assert.Equal((input * MessagesClusterFixture.InputMicrosPerToken) + (output * MessagesClusterFixture.OutputMicrosPerToken), row.CostMicros);
        Assert.True(output > 0);
    }

    [Fact]
    public async Task Create_EdgeModel_ServedOnTheDeviceAndCharged()
    {
        const string Tenant = "msg-edge";
        await fixture.CreateTenantAsync(Tenant, cloudAllowed: false);
        var before = fixture.Anthropic.TotalRequests;

        var message = await Sdk(Token(Tenant)).Messages.Create(Params(MessagesClusterFixture.EdgeModel));

        Assert.StartsWith("echo:", TextOf(message.RawData["content"]), StringComparison.Ordinal);
        Assert.Equal(before, fixture.Anthropic.TotalRequests);
        var row = Assert.Single(await fixture.LedgerAsync(Tenant));
        Assert.Equal("edge", row.Target);
        Assert.Equal((message.Usage.InputTokens, message.Usage.OutputTokens), (row.InputTokens, row.OutputTokens));
        Assert.Equal((row.InputTokens + row.OutputTokens) * MessagesClusterFixture.EdgeMicrosPerToken, row.CostMicros);
    }

    [Fact]
    public async Task CreateStreaming_EdgeModel_StreamsAnthropicEventsAndChargesTheReportedUsage()
    {
        const string Tenant = "msg-edge-stream";
        await fixture.CreateTenantAsync(Tenant, cloudAllowed: false);

        var (text, types, input, output, stopReason) = await StreamAsync(Token(Tenant), MessagesClusterFixture.EdgeModel);

        Assert.Equal($"echo: {Prompt}", text);
        Assert.Equal("end_turn", stopReason);
        Assert.Equal(["message_start", "content_block_start"], types[..2]);
        Assert.Equal(["content_block_stop", "message_delta", "message_stop"], types[^3..]);
        var row = Assert.Single(await fixture.LedgerAsync(Tenant));
        Assert.Equal((input, output), (row.InputTokens, row.OutputTokens));
        Assert.Equal((input + output) * MessagesClusterFixture.EdgeMicrosPerToken, row.CostMicros);
    }

    [Fact]
    public async Task PostStreaming_EdgeModel_AuditEventDigestsTheWholeStream()
    {
        const string Tenant = "msg-audit-stream";
        await fixture.CreateTenantAsync(Tenant, cloudAllowed: false);
        using var http = new HttpClient { BaseAddress = new Uri(fixture.GatewayUrl) };
        var requestBody = Encoding.UTF8.GetBytes(
            $$"""{"model":"{{MessagesClusterFixture.EdgeModel}}","max_tokens":32,"stream":true,"messages":[{"role":"user","content":"stream me"}]}""");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages")
        {
            Content = new ByteArrayContent(requestBody) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
        };
        request.Headers.Add("x-api-key", Token(Tenant));

        using var response = await http.SendAsync(request);
        var streamed = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("message_stop", Encoding.UTF8.GetString(streamed), StringComparison.Ordinal);
        var requestId = response.Headers.GetValues("X-Request-Id").Single();
        Assert.Equal(Tenant, await Outpost.Testing.AuditLogs.AuditRows.EnsureLoggedAsync(fixture.Cluster, requestId));
        await using var data = Npgsql.NpgsqlDataSource.Create(fixture.Cluster.ConnectionString);
        await using var command = data.CreateCommand(
            "SELECT tenant_id, action, model, target, status, request_sha256, response_sha256 FROM outpost_audit_events WHERE request_id = @id");
        command.Parameters.AddWithValue("id", requestId);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), "the streamed request has no audit event");
        Assert.Equal((Tenant, "POST /v1/messages", MessagesClusterFixture.EdgeModel, $"edge:{MessagesClusterFixture.DeviceId}", 200),
            (reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt32(4)));
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(requestBody), (byte[])reader[5]);
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(streamed), (byte[])reader[6]);
    }

    [Fact]
    public async Task Post_EdgeModelWithApiKeyHeader_AnsweredWithTargetHeaderAndAnthropicShape()
    {
        const string Tenant = "msg-raw";
        await fixture.CreateTenantAsync(Tenant, cloudAllowed: false);
        using var http = new HttpClient { BaseAddress = new Uri(fixture.GatewayUrl) };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages")
        {
            Content = Json($$"""{"model":"{{MessagesClusterFixture.EdgeModel}}","max_tokens":32,"system":[{"type":"text","text":"be brief"}],"messages":[{"role":"user","content":[{"type":"text","text":"raw call"}]}]}"""),
        };
        request.Headers.Add("x-api-key", Token(Tenant));
        request.Headers.Add("anthropic-version", "2023-06-01");

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"edge:{MessagesClusterFixture.DeviceId}", response.Headers.GetValues("X-Outpost-Target").Single());
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("message", body.GetProperty("type").GetString());
        Assert.Equal("assistant", body.GetProperty("role").GetString());
        Assert.StartsWith("msg_", body.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("echo: raw call", TextOf(body.GetProperty("content")));
        Assert.Equal(JsonValueKind.Null, body.GetProperty("stop_sequence").ValueKind);
    }

    [Fact]
    public async Task Create_CloudNotOptedIn_RefusedAndNeverSentUpstream()
    {
        const string Tenant = "msg-no-cloud";
        await fixture.CreateTenantAsync(Tenant, cloudAllowed: false);
        var before = fixture.Anthropic.TotalRequests;

        var error = await Assert.ThrowsAnyAsync<AnthropicApiException>(() => Sdk(Token(Tenant)).Messages.Create(Params(MessagesClusterFixture.CloudModel)));

        Assert.Equal(HttpStatusCode.PaymentRequired, error.StatusCode);
        using var body = JsonDocument.Parse(error.ResponseBody!);
        Assert.Equal("error", body.RootElement.GetProperty("type").GetString());
        Assert.Equal("billing_error", body.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal(before, fixture.Anthropic.TotalRequests);
        Assert.Empty(await fixture.LedgerAsync(Tenant));
    }

    [Fact]
    public async Task Create_UpstreamOverloadedTwice_RetriedAndChargedOnce()
    {
        const string Tenant = "msg-retry";
        await fixture.CreateTenantAsync(Tenant, cloudAllowed: true);
        var before = fixture.Anthropic.TotalRequests;
        fixture.Anthropic.FailNext(2, FakeAnthropicFailure.Overloaded);

        var message = await Sdk(Token(Tenant)).Messages.Create(Params(MessagesClusterFixture.CloudModel));

        Assert.Equal($"{FakeAnthropicServer.ReplyPrefix} {Prompt}", TextOf(message.RawData["content"]));
        Assert.Equal(3, fixture.Anthropic.TotalRequests - before);
        Assert.Single(await fixture.LedgerAsync(Tenant));
    }

    [Fact]
    public async Task Create_UpstreamKeepsFailing_ErrorPassedThroughAndNothingCharged()
    {
        const string Tenant = "msg-fail";
        await fixture.CreateTenantAsync(Tenant, cloudAllowed: true);
        fixture.Anthropic.FailNext(3, FakeAnthropicFailure.ServerError);

        var error = await Assert.ThrowsAnyAsync<AnthropicApiException>(() => Sdk(Token(Tenant)).Messages.Create(Params(MessagesClusterFixture.CloudModel)));

        Assert.Equal(HttpStatusCode.InternalServerError, error.StatusCode);
        using var body = JsonDocument.Parse(error.ResponseBody!);
        Assert.Equal("api_error", body.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Empty(await fixture.LedgerAsync(Tenant));
    }

    [Theory]
    [InlineData("""{"model":"qwen2.5:1.5b","messages":[{"role":"user","content":"hi"}]}""", "max_tokens")]
    [InlineData("""{"model":"qwen2.5:1.5b","max_tokens":0,"messages":[{"role":"user","content":"hi"}]}""", "max_tokens")]
    [InlineData("""{"model":"qwen2.5:1.5b","max_tokens":8,"messages":[{"role":"robot","content":"hi"}]}""", "messages.0.role")]
    [InlineData("""{"model":"qwen2.5:1.5b","max_tokens":8,"messages":[{"role":"user","content":[{"type":"image","source":{}}]}]}""", "messages.0.content.0.type")]
    [InlineData("""{"model":"qwen2.5:1.5b","max_tokens":8,"messages":[]}""", "messages")]
    [InlineData("""{"model":"qwen2.5:1.5b","max_tokens":8,""", "JSON")]
    public async Task Post_InvalidRequest_400InAnthropicErrorShape(string json, string named)
    {
        using var http = fixture.Cluster.CreateHttpClient(Token("msg-invalid"));

        using var response = await http.PostAsync("/v1/messages", Json(json));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("error", body.GetProperty("type").GetString());
        Assert.Equal("invalid_request_error", body.GetProperty("error").GetProperty("type").GetString());
        Assert.Contains(named, body.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_UnknownModel_404NotFoundError()
    {
        using var http = fixture.Cluster.CreateHttpClient(Token("msg-unknown"));

        using var response = await http.PostAsync(
            "/v1/messages", Json("""{"model":"no-such-model","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("not_found_error", body.GetProperty("error").GetProperty("type").GetString());
        Assert.Contains("no-such-model", body.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    private string Token(string tenant) => fixture.Cluster.IssueDevelopmentToken(tenant, [Scopes.InferCreate]);

    private AnthropicClient Sdk(string token) => new() { ApiKey = token, BaseUrl = fixture.GatewayUrl, MaxRetries = 0 };

    private static MessageCreateParams Params(string model) => new()
    {
        Model = model,
        MaxTokens = 64,
        Messages = [new UserMessageParam(Prompt)],
    };

    private static StringContent Json(string json) => new(json, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));

    private static string TextOf(JsonElement content) =>
        string.Concat(content.EnumerateArray().Where(b => b.GetProperty("type").GetString() == "text").Select(b => b.GetProperty("text").GetString()));

    /// <summary>Streams through the SDK; usage as Anthropic clients read it: message_start, then message_delta's.</summary>
    private async Task<(string Text, List<string> Types, long Input, long Output, string? StopReason)> StreamAsync(string token, string model)
    {
        var text = new StringBuilder();
        var types = new List<string>();
        long input = 0;
        long output = 0;
        string? stopReason = null;
        await foreach (var streamed in Sdk(token).Messages.CreateStreaming(Params(model)))
        {
            var json = streamed.Json;
            var type = json.GetProperty("type").GetString()!;
            types.Add(type);
            switch (type)
            {
                case "message_start":
                    var usage = json.GetProperty("message").GetProperty("usage");
                    input = usage.GetProperty("input_tokens").GetInt64();
                    output = usage.GetProperty("output_tokens").GetInt64();
                    break;
                case "content_block_delta":
                    text.Append(json.GetProperty("delta").GetProperty("text").GetString());
                    break;
                case "message_delta":
                    var delta = json.GetProperty("usage");
                    input = delta.TryGetProperty("input_tokens", out var i) ? i.GetInt64() : input;
                    output = delta.GetProperty("output_tokens").GetInt64();
                    stopReason = json.GetProperty("delta").GetProperty("stop_reason").GetString();
                    break;
            }
        }

        return (text.ToString(), types, input, output, stopReason);
    }
}
