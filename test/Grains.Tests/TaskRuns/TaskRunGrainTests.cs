using Outpost.Grains.AuditLogs;
using Outpost.Grains.TaskRuns;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.Grains.Tests.TaskRuns;

/// <summary>The TaskRun grain's state machine on a real cluster (no device executes tasks here, so queued runs wait).</summary>
[Collection(ClusterCollection.Name)]
public sealed class TaskRunGrainTests(OutpostClusterFixture fixture)
{
    private const string Tenant = "acme-runs";

    private static readonly TaskRunSpec Gated = new(
        Tenant, "alice", "alice-client", "unit-test", ["python3", "-m", "pytest"], new Dictionary<string, string>(), [], ["report.xml"],
        new TaskLimits(60, 60, 256L * 1024 * 1024, 32, 65536, 1024 * 1024, 64), TaskRunSpec.NoNetwork, [], TaskApproval.Human, "needs-a-human",
        TimeSpan.FromHours(1), RetrySafe: false);

    private ITaskRunGrain Run(string id) => fixture.Cluster.Client.GetGrain<ITaskRunGrain>(id);

    private static TaskDecision Decision(bool approved, string by, bool admin = false) => new(approved, by, Tenant, admin, "reviewed", "req-" + by);

    [Fact]
    public async Task GetAsync_NeverCreated_ReportsNone()
    {
        var snapshot = await Run("run-none").GetAsync();

        Assert.Equal(TaskRunStatus.None, snapshot.Status);
        Assert.Null(snapshot.Spec);
    }

    [Fact]
    public async Task CreateAsync_RequiresApproval_WaitsForApprovalAndIsAudited()
    {
        var snapshot = await Run("run-gated").CreateAsync(Gated, "req-create-gated");

        Assert.Equal(TaskRunStatus.AwaitingApproval, snapshot.Status);
        Assert.Equal("req-create-gated", snapshot.CreatedByRequest);
        Assert.NotNull(snapshot.ApprovalExpiresAt);
        var events = await fixture.Cluster.Client.GetGrain<IAuditLogGrain>(Tenant).ReadAsync(0, 10_000);
        Assert.Contains(events, e => e.Event.Action == "task.requested" && e.Event.Reason.Contains("run-gated; request req-create-gated", StringComparison.Ordinal));
        Assert.Contains(events, e => e.Event.Action == "task.awaiting_approval" && e.Event.Reason.Contains("run-gated", StringComparison.Ordinal)
            && e.Event.Rule == "policy:needs-a-human");
    }

    [Fact]
    public async Task CreateAsync_NoApprovalNeeded_IsQueuedAndWaitsForADevice()
    {
        var snapshot = await Run("run-ungated").CreateAsync(Gated with { Approval = TaskApproval.None }, "req-ungated");

        Assert.Equal(TaskRunStatus.Queued, snapshot.Status);
        Assert.Equal("no device of this tenant executes tasks", snapshot.Reason);
        Assert.Null(snapshot.Device);
    }

    [Fact]
    public async Task CreateAsync_SameSpecTwice_IsIdempotent()
    {
        var first = await Run("run-twice").CreateAsync(Gated, "req-1");
        var second = await Run("run-twice").CreateAsync(Gated with { Candidates = ["dev-pi-1"] }, "req-2");

        Assert.Equal(first.CreatedAt, second.CreatedAt);
        Assert.Equal("req-1", second.CreatedByRequest);
    }

    [Fact]
    public async Task CreateAsync_DifferentSpecSameId_ThrowsAndKeepsTheFirst()
    {
        await Run("run-conflict").CreateAsync(Gated, "req-1");

        await Assert.ThrowsAsync<TaskRunStateException>(() => Run("run-conflict").CreateAsync(Gated with { Argv = ["rm", "-rf", "/"] }, "req-2"));

        Assert.Equal(Gated.Argv, (await Run("run-conflict").GetAsync()).Spec?.Argv);
    }

    [Theory]
    [InlineData(true, TaskRunStatus.Queued)]
    [InlineData(false, TaskRunStatus.Rejected)]
    public async Task DecideAsync_AwaitingApproval_MovesToDecision(bool approved, TaskRunStatus expected)
    {
        var id = $"run-decide-{approved}";
        await Run(id).CreateAsync(Gated, "req");

        var snapshot = await Run(id).DecideAsync(Decision(approved, "bob"));

        Assert.Equal(expected, snapshot.Status);
        Assert.Equal("bob", snapshot.DecidedBy);
    }

    [Fact]
    public async Task DecideAsync_ByTheRequester_IsRefusedAndAudited()
    {
        await Run("run-self").CreateAsync(Gated, "req");

        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => Run("run-self").DecideAsync(Decision(true, "alice")));

        Assert.Equal(TaskRunStatus.AwaitingApproval, (await Run("run-self").GetAsync()).Status);
        var events = await fixture.Cluster.Client.GetGrain<IAuditLogGrain>(Tenant).ReadAsync(0, 10_000);
        Assert.Contains(events, e => e.Event.Action == "task.decision_refused" && e.Event.Decision == AuditEvent.Denied && e.Event.Reason.Contains("run-self", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DecideAsync_AdminOnlyRun_NeedsATenantAdmin()
    {
        await Run("run-admin").CreateAsync(Gated with { Approval = TaskApproval.TenantAdmin }, "req");

        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => Run("run-admin").DecideAsync(Decision(true, "bob")));
        Assert.Equal(TaskRunStatus.Queued, (await Run("run-admin").DecideAsync(Decision(true, "carol", admin: true))).Status);
    }

    [Fact]
    public async Task DecideAsync_AnotherTenant_IsRefused()
    {
        await Run("run-foreign").CreateAsync(Gated, "req");

        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => Run("run-foreign").DecideAsync(Decision(true, "bob") with { Tenant = "other" }));
    }

    [Fact]
    public async Task DecideAsync_NotAwaitingApproval_Throws()
    {
        await Run("run-decide-twice").CreateAsync(Gated, "req");
        await Run("run-decide-twice").DecideAsync(Decision(true, "bob"));

        await Assert.ThrowsAsync<TaskRunStateException>(() => Run("run-decide-twice").DecideAsync(Decision(false, "mallory")));
        Assert.Equal(TaskRunStatus.Queued, (await Run("run-decide-twice").GetAsync()).Status);
    }

    [Fact]
    public async Task CancelAsync_Queued_CancelsAndSurvivesDeactivation()
    {
        await Run("run-cancel").CreateAsync(Gated with { Approval = TaskApproval.None }, "req");
        await Run("run-cancel").CancelAsync("alice", "no longer needed", "req-cancel");

        await fixture.Cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        var snapshot = await Run("run-cancel").GetAsync();
        Assert.Equal(TaskRunStatus.Cancelled, snapshot.Status);
        Assert.Equal("cancelled by alice: no longer needed", snapshot.Reason);
    }

    [Fact]
    public async Task CancelAsync_AlreadyFinal_Throws()
    {
        await Run("run-cancel-final").CreateAsync(Gated, "req");
        await Run("run-cancel-final").DecideAsync(Decision(false, "bob"));

        await Assert.ThrowsAsync<TaskRunStateException>(() => Run("run-cancel-final").CancelAsync("alice", "too late", "req"));
    }

    [Fact]
    public async Task DeviceSide_NotDispatchedToThatDevice_IsRefused()
    {
        await Run("run-not-dispatched").CreateAsync(Gated with { Approval = TaskApproval.None }, "req");
        var execution = fixture.Cluster.Client.GetGrain<ITaskRunExecutionGrain>("run-not-dispatched");

        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => execution.AppendLogAsync("dev-pi-1", 0, [1, 2, 3]));
        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => execution.CompleteAsync("dev-pi-1", new SignedTaskResult("{}", [])));
    }

    [Fact]
    public async Task ReportRefused_ByADeviceTheRunWasNotDispatchedTo_GoesToTheSystemLogNotTheTenants()
    {
        await Run("run-foreign-refusal").CreateAsync(Gated, "req");
        var marker = "refusal-" + Guid.NewGuid().ToString("N");

        await fixture.Cluster.Client.GetGrain<ITaskRunExecutionGrain>("run-foreign-refusal").ReportRefusedAsync("dev-pi-9", marker);

        var tenant = await fixture.Cluster.Client.GetGrain<IAuditLogGrain>(Tenant).ReadAsync(0, 10_000);
        Assert.DoesNotContain(tenant, e => e.Event.Reason.Contains(marker, StringComparison.Ordinal));
        var system = await fixture.Cluster.Client.GetGrain<IAuditLogGrain>(TaskRunGrain.SystemTenant).ReadAsync(0, 100_000);
        Assert.Contains(system, e => e.Event.Action == "task.manifest_refused" && e.Event.Reason.Contains(marker, StringComparison.Ordinal)
            && e.Event.Reason.Contains("not dispatched to this device", StringComparison.Ordinal));
    }
}
