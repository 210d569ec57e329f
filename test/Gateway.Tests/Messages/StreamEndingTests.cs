using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using Outpost.Identity;
using Outpost.Testing.Anthropic;
using Outpost.Testing.AuditLogs;
using Xunit;

namespace Outpost.Gateway.Tests.Messages;

/// <summary>
/// Streams that do not end well, with <c>Limits:RequestTimeout</c> at 5 seconds: each still leaves exactly one audit
/// event saying how it ended and what was sent, and is charged for what the model produced.
/// </summary>
public sealed class StreamEndingTests(ShortTimeoutMessagesFixture fixture) : IClassFixture<ShortTimeoutMessagesFixture>
{
    // Ten words after the reply prefix: with one delta a second, the stream would take 12 seconds.
    private const string Prompt = "one two three four five six seven eight nine ten";

    [Fact]
    public async Task CloudStream_OutlivingTheRequestTimeout_EndsWithATimeoutEvent_AuditedOnceAndChargedForWhatWasSent()
    {
        const string Tenant = "stream-timeout";
        await fixture.CreateTenantAsync(Tenant, cloudAllowed: true);
        fixture.Anthropic.FailNext(1, FakeAnthropicFailure.SlowStream);

        var (requestId, body, sent) = await StreamAsync(Tenant);

        var text = Encoding.UTF8.GetString(sent);
        Assert.Contains("timeout_error", text, StringComparison.Ordinal);
        Assert.DoesNotContain("message_stop", text, StringComparison.Ordinal);
        var audit = await AuditAsync(requestId);
        Assert.Equal(("timeout", 200), (audit.Outcome, audit.Status));
        Assert.Equal(SHA256.HashData(body), audit.RequestSha256);
        Assert.Equal(SHA256.HashData(sent), audit.ResponseSha256);
        var row = Assert.Single(await fixture.LedgerAsync(Tenant));
        var deltas = CountDeltas(text);
        Assert.InRange(deltas, 2, 7);
        Assert.True(row.OutputTokens >= deltas, $"charged {row.OutputTokens} output tokens for {deltas} deltas");
        Assert.Equal(row.CostMicros, audit.CostMicros);
        Assert.True(audit.CostMicros > 0);
    }

    [Fact]
    public async Task CloudStream_UpstreamDroppingAfterTheLastDelta_IsChargedForTheOutputItStreamed()
    {
        const string Tenant = "stream-cut";
        await fixture.CreateTenantAsync(Tenant, cloudAllowed: true);
        fixture.Anthropic.FailNext(1, FakeAnthropicFailure.CutAfterDeltas);

        var (requestId, _, sent) = await StreamAsync(Tenant);

        var text = Encoding.UTF8.GetString(sent);
        var deltas = CountDeltas(text);
        Assert.InRange(deltas, 2, FakeAnthropicServer.Words($"{FakeAnthropicServer.ReplyPrefix} {Prompt}"));
        Assert.Contains("event: error", text, StringComparison.Ordinal);
        var row = Assert.Single(await fixture.LedgerAsync(Tenant));
        // message_start said 1 output token; each delta relayed carried at least one.
        Assert.True(row.OutputTokens >= deltas, $"charged {row.OutputTokens} output tokens for {deltas} streamed deltas");
        var audit = await AuditAsync(requestId);
        Assert.Equal("upstream_error", audit.Outcome);
        Assert.Equal(row.CostMicros, audit.CostMicros);
    }

    [Fact]
    public async Task CloudStream_ClientClosingMidway_IsAuditedAsClientClosedAndCharged()
    {
        const string Tenant = "stream-closed";
        await fixture.CreateTenantAsync(Tenant, cloudAllowed: true);
        fixture.Anthropic.FailNext(1, FakeAnthropicFailure.SlowStream);
        using var http = new HttpClient { BaseAddress = new Uri(fixture.GatewayUrl) };
        using var request = Request(Tenant, out _);

        string requestId;
        using (var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            requestId = response.Headers.GetValues("X-Request-Id").Single();
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            while (await reader.ReadLineAsync() is { } line && !line.Contains("content_block_delta", StringComparison.Ordinal))
            {
            }
        }

        var audit = await AuditAsync(requestId);
        Assert.Equal("client_closed", audit.Outcome);
        var row = Assert.Single(await fixture.LedgerAsync(Tenant));
        Assert.True(row.OutputTokens >= 1);
        Assert.Equal(row.CostMicros, audit.CostMicros);
    }

    private static int CountDeltas(string text) =>
        text.Split('\n').Count(line => line == "event: content_block_delta");

    private HttpRequestMessage Request(string tenant, out byte[] body)
    {
        body = Encoding.UTF8.GetBytes(
            $$"""{"model":"{{MessagesClusterFixture.CloudModel}}","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"{{Prompt}}"}]}""");
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages")
        {
            Content = new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
        };
        request.Headers.Add("x-api-key", fixture.Cluster.IssueDevelopmentToken(tenant, [Scopes.InferCreate]));
        return request;
    }

    private async Task<(string RequestId, byte[] Body, byte[] Sent)> StreamAsync(string tenant)
    {
        using var http = new HttpClient { BaseAddress = new Uri(fixture.GatewayUrl), Timeout = TimeSpan.FromSeconds(60) };
        using var request = Request(tenant, out var body);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var sent = await response.Content.ReadAsByteArrayAsync();
        return (response.Headers.GetValues("X-Request-Id").Single(), body, sent);
    }

    private async Task<AuditRow> AuditAsync(string requestId)
    {
        // A caller that hung up does not wait for the event; the gateway writes it once it notices (at its next write).
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await AuditRows.EnsureLoggedAsync(fixture.Cluster, requestId) is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        await using var data = NpgsqlDataSource.Create(fixture.Cluster.ConnectionString);
        await using var command = data.CreateCommand(
            "SELECT outcome, status, cost_micros, request_sha256, response_sha256 FROM outpost_audit_events WHERE request_id = @id");
        command.Parameters.AddWithValue("id", requestId);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), "the stream has no audit event");
        var row = new AuditRow(reader.GetString(0), reader.GetInt32(1), reader.GetInt64(2), (byte[])reader[3], (byte[])reader[4]);
        Assert.False(await reader.ReadAsync(), "the stream has more than one audit event");
        return row;
    }

    private sealed record AuditRow(string Outcome, int Status, long CostMicros, byte[] RequestSha256, byte[] ResponseSha256);
}
