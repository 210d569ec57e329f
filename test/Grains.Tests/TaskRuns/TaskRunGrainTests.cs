using Outpost.Grains.TaskRuns;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.Grains.Tests.TaskRuns;

[Collection(ClusterCollection.Name)]
public sealed class TaskRunGrainTests(OutpostClusterFixture fixture)
{
    private static readonly TaskRunSpec Gated = new("acme", "alice", "dotnet-test", "dev-pi-1", RequiresApproval: true);

    private ITaskRunGrain Run(string id) => fixture.Cluster.Client.GetGrain<ITaskRunGrain>(id);

    [Fact]
    public async Task GetAsync_NeverCreated_ReportsNone()
    {
        var snapshot = await Run("run-none").GetAsync();

        Assert.Equal(TaskRunStatus.None, snapshot.Status);
        Assert.Null(snapshot.Spec);
    }

    [Fact]
    public async Task CreateAsync_RequiresApproval_WaitsForApproval()
    {
        var snapshot = await Run("run-gated").CreateAsync(Gated);

        Assert.Equal(TaskRunStatus.AwaitingApproval, snapshot.Status);
        Assert.Equal(Gated, snapshot.Spec);
    }

    [Fact]
    public async Task CreateAsync_NoApprovalNeeded_IsQueued()
    {
        var snapshot = await Run("run-ungated").CreateAsync(Gated with { RequiresApproval = false });

        Assert.Equal(TaskRunStatus.Queued, snapshot.Status);
    }

    [Fact]
    public async Task CreateAsync_SameSpecTwice_IsIdempotent()
    {
        var first = await Run("run-twice").CreateAsync(Gated);
        var second = await Run("run-twice").CreateAsync(Gated);

        Assert.Equal(first, second);
    }

    [Fact]
    public async Task CreateAsync_DifferentSpecSameId_ThrowsAndKeepsTheFirst()
    {
        await Run("run-conflict").CreateAsync(Gated);

        await Assert.ThrowsAsync<TaskRunStateException>(() => Run("run-conflict").CreateAsync(Gated with { Manifest = "rm-rf" }));

        Assert.Equal("dotnet-test", (await Run("run-conflict").GetAsync()).Spec?.Manifest);
    }

    [Theory]
    [InlineData(true, TaskRunStatus.Queued)]
    [InlineData(false, TaskRunStatus.Rejected)]
    public async Task DecideAsync_AwaitingApproval_MovesToDecision(bool approved, TaskRunStatus expected)
    {
        var id = $"run-decide-{approved}";
        await Run(id).CreateAsync(Gated);

        var snapshot = await Run(id).DecideAsync(approved, "bob");

        Assert.Equal(expected, snapshot.Status);
    }

    [Fact]
    public async Task DecideAsync_NotAwaitingApproval_Throws()
    {
        await Run("run-decide-twice").CreateAsync(Gated);
        await Run("run-decide-twice").DecideAsync(true, "bob");

        await Assert.ThrowsAsync<TaskRunStateException>(() => Run("run-decide-twice").DecideAsync(false, "mallory"));
        Assert.Equal(TaskRunStatus.Queued, (await Run("run-decide-twice").GetAsync()).Status);
    }

    [Fact]
    public async Task CancelAsync_Queued_CancelsAndSurvivesDeactivation()
    {
        await Run("run-cancel").CreateAsync(Gated with { RequiresApproval = false });
        await Run("run-cancel").CancelAsync("no longer needed");

        await fixture.Cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        var snapshot = await Run("run-cancel").GetAsync();
        Assert.Equal(TaskRunStatus.Cancelled, snapshot.Status);
        Assert.Equal("no longer needed", snapshot.Reason);
    }

    [Fact]
    public async Task CancelAsync_AlreadyFinal_Throws()
    {
        await Run("run-cancel-final").CreateAsync(Gated);
        await Run("run-cancel-final").DecideAsync(false, "bob");

        await Assert.ThrowsAsync<TaskRunStateException>(() => Run("run-cancel-final").CancelAsync("too late"));
    }
}
