using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit;

namespace Outpost.Gateway.Tests.Tasks;

/// <summary>The approval gate over HTTP: nothing starts before a decision, only the right person decides, and time runs out.</summary>
[Collection(TaskClusterCollection.Name)]
public sealed class ApprovalTests(TaskClusterFixture fixture)
{
    [Fact]
    public async Task TaskNeedingApproval_DoesNotStartUntilAnotherPersonApproves()
    {
        using var agent = fixture.Agent("approval-requester");
        using var reviewer = fixture.Reviewer("approval-reviewer");
        var (status, run) = await TaskClusterFixture.SubmitAsync(agent, new { kind = "build", argv = new[] { "/bin/sh", "-c", "echo built" } });
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("awaiting_approval", run.GetProperty("status").GetString());
        Assert.Equal("human", run.GetProperty("approval").GetProperty("required").GetString());
        var id = run.GetProperty("id").GetString()!;

        // Waiting means waiting: a while later it has still not been dispatched anywhere.
        await Task.Delay(TimeSpan.FromSeconds(1));
        var waiting = await agent.GetFromJsonAsync<JsonElement>($"/v1/tasks/{id}");
        Assert.Equal("awaiting_approval", waiting.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, waiting.GetProperty("device").ValueKind);
        Assert.Contains((await reviewer.GetFromJsonAsync<JsonElement>("/v1/approvals")).GetProperty("data").EnumerateArray(), r => r.GetProperty("id").GetString() == id);

        // The requester may not approve its own task.
        using (var own = await agent.PostAsJsonAsync($"/v1/approvals/{id}", new { decision = "approve", reason = "looks fine to me" }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, own.StatusCode);
            Assert.Contains("requester", (await own.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        // Another tenant can neither see nor decide it.
        using var outsider = fixture.Cluster.CreateHttpClient(fixture.Cluster.IssueDevelopmentToken("other-tenant", ["approvals:decide", "tasks:read"], clientId: "outsider"));
        using (var foreign = await outsider.PostAsJsonAsync($"/v1/approvals/{id}", new { decision = "approve" }))
        {
            Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        }

        Assert.DoesNotContain((await outsider.GetFromJsonAsync<JsonElement>("/v1/approvals")).GetProperty("data").EnumerateArray(), r => r.GetProperty("id").GetString() == id);

        using (var approved = await reviewer.PostAsJsonAsync($"/v1/approvals/{id}", new { decision = "approve", reason = "reviewed the command" }))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        }

        var done = await TaskClusterFixture.WaitForAsync(agent, id, TaskClusterFixture.Ended);
        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        Assert.Equal("approval-reviewer", done.GetProperty("approval").GetProperty("decided_by").GetString());
        Assert.Contains("built", await agent.GetStringAsync($"/v1/tasks/{id}/logs"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RejectedApproval_EndsTheRunRejectedWithTheReason()
    {
        using var agent = fixture.Agent("reject-requester");
        using var reviewer = fixture.Reviewer("reject-reviewer");
        var (_, run) = await TaskClusterFixture.SubmitAsync(agent, new { kind = "build", argv = new[] { "/bin/sh", "-c", "echo never" } });
        var id = run.GetProperty("id").GetString()!;
        using var rejected = await reviewer.PostAsJsonAsync($"/v1/approvals/{id}", new { decision = "reject", reason = "not on a Friday" });
        Assert.Equal(HttpStatusCode.OK, rejected.StatusCode);
        var done = await agent.GetFromJsonAsync<JsonElement>($"/v1/tasks/{id}");
        Assert.Equal("rejected", done.GetProperty("status").GetString());
        Assert.Contains("not on a Friday", done.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, done.GetProperty("log_bytes").GetInt64());

        using var late = await reviewer.PostAsJsonAsync($"/v1/approvals/{id}", new { decision = "approve" });
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
    }

    [Fact]
    public async Task Approval_NotDecidedInTime_ExpiresTheRun()
    {
        using var agent = fixture.Agent("expiry-requester");
        var (_, run) = await TaskClusterFixture.SubmitAsync(agent, new { kind = "slow-approval", argv = new[] { "true" } });
        var id = run.GetProperty("id").GetString()!;
        var done = await TaskClusterFixture.WaitForAsync(agent, id, TaskClusterFixture.Ended, TimeSpan.FromSeconds(30));
        Assert.Equal("expired", done.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, done.GetProperty("started_at").ValueKind);
    }

    [Fact]
    public async Task AdminOnlyApproval_RefusesAnOrdinaryReviewerAndTakesATenantAdmin()
    {
        using var agent = fixture.Agent("deploy-requester");
        using var reviewer = fixture.Reviewer("deploy-reviewer");
        using var admin = fixture.Reviewer("deploy-admin", admin: true);
        var (_, run) = await TaskClusterFixture.SubmitAsync(agent, new { kind = "deploy", argv = new[] { "true" } });
        var id = run.GetProperty("id").GetString()!;
        Assert.Equal("tenant_admin", run.GetProperty("approval").GetProperty("required").GetString());
        using (var refused = await reviewer.PostAsJsonAsync($"/v1/approvals/{id}", new { decision = "approve" }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        using (var approved = await admin.PostAsJsonAsync($"/v1/approvals/{id}", new { decision = "approve" }))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        }

        Assert.Equal("succeeded", (await TaskClusterFixture.WaitForAsync(agent, id, TaskClusterFixture.Ended)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Decide_WithoutTheScope_Is403()
    {
        using var agent = fixture.Cluster.CreateHttpClient(fixture.Cluster.IssueDevelopmentToken(TaskClusterFixture.Tenant, ["code:execute", "tasks:read"], clientId: "no-approvals"));
        using var response = await agent.PostAsJsonAsync("/v1/approvals/run_00000000000000000000000000000000", new { decision = "approve" });
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }
}
