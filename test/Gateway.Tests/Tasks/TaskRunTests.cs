using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Outpost.Grains.AuditLogs;
using Outpost.Grains.TaskRuns;
using Xunit;

namespace Outpost.Gateway.Tests.Tasks;

/// <summary>Remote execution end to end: a real bubblewrap sandbox on a real edge silo, PostgreSQL, the gateway on loopback.</summary>
[Collection(TaskClusterCollection.Name)]
public sealed class TaskRunTests(TaskClusterFixture fixture)
{
    [Fact]
    public async Task UnitTestTask_PassingProject_StreamsLogsSucceedsWithVerifiedResultAndReport()
    {
        using var agent = fixture.Agent();
        var project = await TaskClusterFixture.UploadAsync(agent, TaskClusterFixture.PythonProject(failing: false));
        var (status, run) = await TaskClusterFixture.SubmitAsync(agent, new
        {
            kind = "unit-test",
            argv = new[] { "python3", "run_tests.py" },
            inputs = new[] { new { digest = project, path = ".", unpack = true } },
            outputs = new[] { "report.xml" },
            env = new Dictionary<string, string> { ["PYTHONDONTWRITEBYTECODE"] = "1" },
        });
        Assert.Equal(HttpStatusCode.Created, status);
        var id = run.GetProperty("id").GetString()!;

        var (log, end) = await FollowLogAsync(agent, id);
        Assert.Contains("test_add (tests.test_calc.CalcTests", log, StringComparison.Ordinal);
        Assert.Contains("report written", log, StringComparison.Ordinal);
        Assert.Equal("succeeded", end.GetProperty("status").GetString());

        var done = await TaskClusterFixture.WaitForAsync(agent, id, TaskClusterFixture.Ended);
        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        Assert.Equal(0, done.GetProperty("exit_code").GetInt32());
        Assert.True(done.GetProperty("result_verified").GetBoolean());
        Assert.Equal(TaskClusterFixture.DeviceId, done.GetProperty("device").GetString());
        var report = done.GetProperty("outputs").EnumerateArray().Single();
        Assert.Equal("report.xml", report.GetProperty("path").GetString());

        // The report downloads under its digest, and its bytes hash to it.
        var bytes = await agent.GetByteArrayAsync($"/v1/artifacts/{report.GetProperty("digest").GetString()}");
        Assert.Equal(report.GetProperty("digest").GetString(), "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes)));
        Assert.Contains("tests=\"1\"", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);

        // After the run, the whole log as text; it is the log the device signed.
        var whole = await agent.GetStringAsync($"/v1/tasks/{id}/logs");
        Assert.Equal(log.Replace("\r", string.Empty, StringComparison.Ordinal).TrimEnd('\n'), whole.Replace("\r", string.Empty, StringComparison.Ordinal).TrimEnd('\n'));

        // An auditor with only the published keys checks the attestation offline.
        var attestation = JsonNode.Parse(await agent.GetStringAsync($"/v1/tasks/{id}/attestation"))!;
        var keys = JsonNode.Parse(await agent.GetStringAsync("/v1/tasks/signing-keys"))!;
        var trusted = keys["data"]!.AsArray().ToDictionary(k => (string)k!["key_id"]!, k => Convert.FromBase64String((string)k!["public_key"]!));
        var manifest = new SignedManifest(
            (string)attestation["manifest"]!, Convert.FromBase64String((string)attestation["manifest_signature"]!),
            Convert.FromBase64String((string)attestation["ephemeral_public_key"]!),
            new ManifestEndorsement((string)attestation["endorsement_key_id"]!, Convert.FromBase64String((string)attestation["endorsement_signature"]!)));
        var (parsed, refusal) = TaskSignatures.VerifyManifest(manifest, trusted);
        Assert.True(parsed is not null, refusal);
        Assert.Equal(project, parsed!.Inputs.Single().Digest);
        Assert.Equal("none", parsed.Network);
        var resultJson = (string)attestation["result"]!;
        Assert.True(TaskSignatures.Verify(
            Convert.FromBase64String((string)attestation["device_public_key"]!), TaskSignatures.ResultText(resultJson), Convert.FromBase64String((string)attestation["result_signature"]!)));
        var result = JsonSerializer.Deserialize<TaskResult>(resultJson, TaskSignatures.Json)!;
        Assert.Equal(TaskSignatures.Sha256Hex(manifest.ManifestJson), result.ManifestSha256);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(whole))), result.LogSha256);
        Assert.Equal(report.GetProperty("digest").GetString(), result.Outputs.Single().Digest);
    }

    [Fact]
    public async Task UnitTestTask_FailingTest_EndsFailedWithItsExitCode()
    {
        using var agent = fixture.Agent();
        var project = await TaskClusterFixture.UploadAsync(agent, TaskClusterFixture.PythonProject(failing: true));
        var (_, run) = await TaskClusterFixture.SubmitAsync(agent, new
        {
            kind = "unit-test",
            argv = new[] { "python3", "run_tests.py" },
            inputs = new[] { new { digest = project, path = ".", unpack = true } },
            outputs = new[] { "report.xml" },
        });
        var done = await TaskClusterFixture.WaitForAsync(agent, run.GetProperty("id").GetString()!, TaskClusterFixture.Ended);
        Assert.Equal("failed", done.GetProperty("status").GetString());
        Assert.Equal(1, done.GetProperty("exit_code").GetInt32());
        Assert.Equal("exit code 1", done.GetProperty("reason").GetString());
        Assert.True(done.GetProperty("result_verified").GetBoolean());
        Assert.Single(done.GetProperty("outputs").EnumerateArray());
    }

    [Fact]
    public async Task Submit_SameIdempotencyKey_ReturnsTheSameRunAndAnotherBodyConflicts()
    {
        using var agent = fixture.Agent("idempotent-agent");
        var key = Guid.NewGuid().ToString("N");
        var task = new { kind = "unit-test", argv = new[] { "sleep", "0" } };
        var (first, created) = await TaskClusterFixture.SubmitAsync(agent, task, key);
        var (second, again) = await TaskClusterFixture.SubmitAsync(agent, task, key);
        Assert.Equal(HttpStatusCode.Created, first);
        Assert.Equal(HttpStatusCode.OK, second);
        Assert.Equal(created.GetProperty("id").GetString(), again.GetProperty("id").GetString());

        var (conflict, problem) = await TaskClusterFixture.SubmitAsync(agent, new { kind = "unit-test", argv = new[] { "sleep", "1" } }, key);
        Assert.Equal(HttpStatusCode.Conflict, conflict);
        Assert.EndsWith("/idempotency-conflict", problem.GetProperty("type").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"kind":"unit-test"}""", "argv")]
    [InlineData("""{"kind":"Unit Test","argv":["true"]}""", "kind")]
    [InlineData("""{"kind":"unit-test","argv":["true"],"env":{"LD_PRELOAD":"/x.so"}}""", "env.LD_PRELOAD")]
    [InlineData("""{"kind":"unit-test","argv":["true"],"inputs":[{"digest":"sha256:00","path":"."}]}""", "inputs[0].digest")]
    [InlineData("""{"kind":"unit-test","argv":["true"],"outputs":["../etc/passwd"]}""", "outputs")]
    [InlineData("""{"kind":"unit-test","argv":["true"],"limits":{"wall_seconds":100000}}""", "limits exceed")]
    public async Task Submit_InvalidTask_Is422NamingTheField(string body, string named)
    {
        using var agent = fixture.Agent();
        using var response = await agent.PostAsync(new Uri("/v1/tasks", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(named, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_ForbiddenKind_Is403AndAudited()
    {
        using var agent = fixture.Agent("forbidden-agent");
        var (status, problem) = await TaskClusterFixture.SubmitAsync(agent, new { kind = "forbidden", argv = new[] { "true" } });
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("'never'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var events = await fixture.Cluster.Client.GetGrain<IAuditLogGrain>(TaskClusterFixture.Tenant).ReadAsync(0, 100_000);
        Assert.Contains(events, e => e.Event.Action == "POST /v1/tasks" && e.Event.Decision == AuditEvent.Denied && e.Event.ClientId == "forbidden-agent");
    }

    [Fact]
    public async Task Cancel_RunningTask_KillsItAndEndsCancelled()
    {
        using var agent = fixture.Agent();
        var (_, run) = await TaskClusterFixture.SubmitAsync(agent, new { kind = "unit-test", argv = new[] { "/bin/sh", "-c", "echo started; sleep 607" } });
        var id = run.GetProperty("id").GetString()!;
        await TaskClusterFixture.WaitForAsync(agent, id, r => r.GetProperty("status").GetString() == "running" && r.GetProperty("log_bytes").GetInt64() > 0);
        using var cancel = await agent.PostAsync(new Uri($"/v1/tasks/{id}/cancel", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        var done = await TaskClusterFixture.WaitForAsync(agent, id, TaskClusterFixture.Ended);
        Assert.Equal("cancelled", done.GetProperty("status").GetString());

        // The process itself is gone from the host: nothing runs "sleep 607" any more.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (EdgeFaultTests.Alive("sleep 607") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.False(EdgeFaultTests.Alive("sleep 607"), "a sleep 607 of a cancelled run is still running on the host");
        using var again = await agent.PostAsync(new Uri($"/v1/tasks/{id}/cancel", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task GetTask_OtherTenant_Is404()
    {
        using var agent = fixture.Agent();
        var (_, run) = await TaskClusterFixture.SubmitAsync(agent, new { kind = "unit-test", argv = new[] { "sleep", "0" } });
        using var other = fixture.Cluster.CreateHttpClient(fixture.Cluster.IssueDevelopmentToken("other-tenant", ["tasks:read", "code:execute"]));
        var id = run.GetProperty("id").GetString()!;
        foreach (var path in new[] { $"/v1/tasks/{id}", $"/v1/tasks/{id}/logs", $"/v1/tasks/{id}/attestation" })
        {
            using var response = await other.GetAsync(new Uri(path, UriKind.Relative));
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        var list = await other.GetFromJsonAsync<JsonElement>("/v1/tasks");
        Assert.DoesNotContain(list.GetProperty("data").EnumerateArray(), r => r.GetProperty("id").GetString() == id);
        var mine = await agent.GetFromJsonAsync<JsonElement>("/v1/tasks?limit=200");
        Assert.Contains(mine.GetProperty("data").EnumerateArray(), r => r.GetProperty("id").GetString() == id);
    }

    [Fact]
    public async Task ListTasks_ByStatus_ListsOnlyThatStatus_AndAnUnknownStatusIs400()
    {
        using var agent = fixture.Agent("list-agent");
        var (_, run) = await TaskClusterFixture.SubmitAsync(agent, new { kind = "unit-test", argv = new[] { "sleep", "0" } });
        var id = run.GetProperty("id").GetString()!;
        await TaskClusterFixture.WaitForAsync(agent, id, TaskClusterFixture.Ended);

        var succeeded = await agent.GetFromJsonAsync<JsonElement>("/v1/tasks?status=succeeded&limit=200");
        Assert.Contains(succeeded.GetProperty("data").EnumerateArray(), r => r.GetProperty("id").GetString() == id);
        Assert.All(succeeded.GetProperty("data").EnumerateArray(), r => Assert.Equal("succeeded", r.GetProperty("status").GetString()));
        var waiting = await agent.GetFromJsonAsync<JsonElement>("/v1/tasks?status=awaiting_approval&limit=200");
        Assert.DoesNotContain(waiting.GetProperty("data").EnumerateArray(), r => r.GetProperty("id").GetString() == id);

        using var bogus = await agent.GetAsync(new Uri("/v1/tasks?status=finished", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, bogus.StatusCode);
        Assert.Contains("awaiting_approval", (await bogus.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logs_ReconnectingWithLastEventId_ContinuesWhereItWas()
    {
        using var agent = fixture.Agent("resume-agent");
        var (_, run) = await TaskClusterFixture.SubmitAsync(agent, new { kind = "unit-test", argv = new[] { "/bin/sh", "-c", "echo one; echo two; echo three" } });
        var id = run.GetProperty("id").GetString()!;
        await TaskClusterFixture.WaitForAsync(agent, id, TaskClusterFixture.Ended);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/tasks/{id}/logs");
        request.Headers.Accept.ParseAdd("text/event-stream");
        request.Headers.Add("Last-Event-ID", "4");
        using var response = await agent.SendAsync(request);
        var events = await response.Content.ReadAsStringAsync();
        Assert.Contains("data: two", events, StringComparison.Ordinal);
        Assert.DoesNotContain("data: one", events, StringComparison.Ordinal);
        Assert.Contains("event: end", events, StringComparison.Ordinal);
        Assert.Contains("\"status\":\"succeeded\"", events, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Output_ThatIsAFifoOrALink_IsNotReturnedAndDoesNotHangTheDevice()
    {
        using var agent = fixture.Agent("fifo-agent");
        var (_, run) = await TaskClusterFixture.SubmitAsync(agent, new
        {
            kind = "unit-test",
            argv = new[] { "/bin/sh", "-c", "mkfifo report.xml && ln -s /etc/hostname link.txt && echo ok > real.txt" },
            outputs = new[] { "report.xml", "link.txt", "real.txt" },
        });
        var done = await TaskClusterFixture.WaitForAsync(agent, run.GetProperty("id").GetString()!, TaskClusterFixture.Ended);
        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        var output = Assert.Single(done.GetProperty("outputs").EnumerateArray());
        Assert.Equal("real.txt", output.GetProperty("path").GetString());
    }

    /// <summary>Follows the log as server-sent events until the end event; returns the text and the end event's data.</summary>
    internal static async Task<(string Log, JsonElement End)> FollowLogAsync(HttpClient client, string id)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/tasks/{id}/logs");
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var text = new StringBuilder();
        string? eventName = null;
        var data = new List<string>();
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                eventName = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data.Add(line[6..]);
            }
            else if (line.Length == 0 && eventName is not null)
            {
                if (eventName == "end")
                {
                    return (text.ToString(), JsonDocument.Parse(string.Join('\n', data)).RootElement.Clone());
                }

                text.Append(string.Join('\n', data));
                eventName = null;
                data.Clear();
            }
        }

        throw new InvalidOperationException("The log stream ended without an end event.");
    }
}
