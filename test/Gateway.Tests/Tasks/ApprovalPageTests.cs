using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Outpost.Identity.Tenants;
using Outpost.Testing.Browser;
using Xunit;

namespace Outpost.Gateway.Tests.Tasks;

/// <summary>The approval page as a tenant admin uses it: in headless Chromium, signing in, reading and deciding.</summary>
[Collection(TaskClusterCollection.Name)]
public sealed partial class ApprovalPageTests(TaskClusterFixture fixture)
{
    private const string Password = "correct horse battery staple";

    [Fact]
    public async Task TenantAdmin_InChromium_SignsInSeesPendingRunsApprovesOneAndRejectsAnother()
    {
        var admin = await CreateAdminAsync();
        using var agent = fixture.Agent("page-requester");
        var (_, first) = await TaskClusterFixture.SubmitAsync(agent, new { kind = "build", argv = new[] { "/bin/sh", "-c", "echo approved in a browser" } });
        var (_, second) = await TaskClusterFixture.SubmitAsync(agent, new { kind = "build", argv = new[] { "/bin/sh", "-c", "echo should never run" } });
        var approveId = first.GetProperty("id").GetString()!;
        var rejectId = second.GetProperty("id").GetString()!;

        await using var browser = await HeadlessChromium.StartAsync();
        var page = fixture.GatewayUrl + "/approvals";
        await browser.NavigateAsync(page);
        Assert.Contains("sign in", await browser.TextAsync(), StringComparison.OrdinalIgnoreCase);

        // A wrong password is refused on the page.
        await browser.FillAsync("#tenant", TaskClusterFixture.Tenant);
        await browser.FillAsync("#username", admin);
        await browser.FillAsync("#password", "not the password at all");
        await browser.ClickAndWaitAsync("#sign-in");
        Assert.Contains("Wrong tenant, username or password", await browser.TextAsync(), StringComparison.Ordinal);

        await browser.FillAsync("#tenant", TaskClusterFixture.Tenant);
        await browser.FillAsync("#username", admin);
        await browser.FillAsync("#password", Password);
        await browser.ClickAndWaitAsync("#sign-in");
        var listing = await browser.TextAsync();
        Assert.Contains("Tasks waiting for approval", listing, StringComparison.Ordinal);
        Assert.Contains(approveId, listing, StringComparison.Ordinal);
        Assert.Contains("echo approved in a browser", listing, StringComparison.Ordinal);
        Assert.Contains("page-requester", listing, StringComparison.Ordinal);

        await browser.FillAsync($"[id='{approveId}'] input[name=reason]", "checked in the browser");
        await browser.ClickAndWaitAsync($"[id='{approveId}'] button.approve");
        Assert.Contains($"Approved {approveId}.", await browser.TextAsync(), StringComparison.Ordinal);

        await browser.ClickAndWaitAsync($"[id='{rejectId}'] button.reject");
        var after = await browser.TextAsync();
        Assert.Contains($"Rejected {rejectId}.", after, StringComparison.Ordinal);
        Assert.DoesNotContain("echo should never run", after, StringComparison.Ordinal);

        var approved = await TaskClusterFixture.WaitForAsync(agent, approveId, TaskClusterFixture.Ended);
        Assert.Equal("succeeded", approved.GetProperty("status").GetString());
        Assert.Equal($"{TaskClusterFixture.Tenant}:{admin}", approved.GetProperty("approval").GetProperty("decided_by").GetString());
        var events = await fixture.Cluster.Client.GetGrain<Outpost.Grains.AuditLogs.IAuditLogGrain>(TaskClusterFixture.Tenant).ReadAsync(0, 100_000);
        Assert.Contains(events, e => e.Event.Action == "task.queued" && e.Event.Subject == $"{TaskClusterFixture.Tenant}:{admin}" && e.Event.Reason.Contains("checked in the browser", StringComparison.Ordinal));
        Assert.Contains(events, e => e.Event.Action == "task.rejected" && e.Event.Subject == $"{TaskClusterFixture.Tenant}:{admin}" && e.Event.Reason.Contains(rejectId, StringComparison.Ordinal));
        var rejected = await agent.GetFromJsonAsync<JsonElement>($"/v1/tasks/{rejectId}");
        Assert.Equal("rejected", rejected.GetProperty("status").GetString());
    }

    [Fact]
    public async Task TenantAdmin_OwnRun_IsShownWithoutADecisionForm()
    {
        var admin = await CreateAdminAsync();
        // The admin's own agent: a device-flow token's subject is tenant:username.
        using var own = fixture.Cluster.CreateHttpClient(fixture.Cluster.IssueDevelopmentToken(TaskClusterFixture.Tenant, ["code:execute", "tasks:read"], clientId: $"{TaskClusterFixture.Tenant}:{admin}"));
        var (_, run) = await TaskClusterFixture.SubmitAsync(own, new { kind = "build", argv = new[] { "true" } });
        var id = run.GetProperty("id").GetString()!;

        await using var browser = await HeadlessChromium.StartAsync();
        await browser.NavigateAsync(fixture.GatewayUrl + "/approvals");
        await browser.FillAsync("#tenant", TaskClusterFixture.Tenant);
        await browser.FillAsync("#username", admin);
        await browser.FillAsync("#password", Password);
        await browser.ClickAndWaitAsync("#sign-in");
        Assert.Contains("You requested this run", await browser.TextAsync(), StringComparison.Ordinal);
        Assert.Equal(0, (await browser.EvaluateAsync($"document.querySelectorAll(\"[id='{id}'] form\").length"))!.GetValue<int>());
    }

    [Fact]
    public async Task Decide_WithoutTheAntiforgeryToken_DecidesNothing()
    {
        var admin = await CreateAdminAsync();
        using var agent = fixture.Agent("csrf-requester");
        var (_, run) = await TaskClusterFixture.SubmitAsync(agent, new { kind = "build", argv = new[] { "true" } });
        var id = run.GetProperty("id").GetString()!;

        var cookies = new CookieContainer();
        using var handler = new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false };
        using var client = new HttpClient(handler) { BaseAddress = new Uri(fixture.GatewayUrl) };
        var signIn = await client.GetStringAsync("/approvals");
        var token = AntiforgeryField().Match(signIn);
        Assert.True(token.Success, "the sign-in form carries an antiforgery token");
        using (var login = await client.PostAsync("/approvals/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            [token.Groups["name"].Value] = token.Groups["value"].Value,
            ["tenant"] = TaskClusterFixture.Tenant,
            ["username"] = admin,
            ["password"] = Password,
        })))
        {
            Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        }

        // A signed-in admin's browser tricked into posting from another site sends the cookie but not the form token.
        using var forged = await client.PostAsync("/approvals/decide", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["run_id"] = id,
            ["decision"] = "approve",
        }));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal("awaiting_approval", (await agent.GetFromJsonAsync<JsonElement>($"/v1/tasks/{id}")).GetProperty("status").GetString());
        Assert.Equal("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            forged.Headers.GetValues("Content-Security-Policy").Single());
    }

    private async Task<string> CreateAdminAsync()
    {
        await using (var connection = new NpgsqlConnection(fixture.Cluster.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("INSERT INTO outpost_tenants (tenant_id, display_name) VALUES (@t, 'Test') ON CONFLICT DO NOTHING", connection);
            command.Parameters.AddWithValue("t", TaskClusterFixture.Tenant);
            await command.ExecuteNonQueryAsync();
        }

        var username = $"admin-{Guid.NewGuid():N}"[..20];
        await fixture.Cluster.Gateway.Services.GetRequiredService<TenantAdminStore>().CreateAsync(TaskClusterFixture.Tenant, username, Password);
        return username;
    }

    [GeneratedRegex("<input type=\"hidden\" name=\"(?<name>[^\"]+)\" value=\"(?<value>[^\"]+)\">")]
    private static partial Regex AntiforgeryField();
}
