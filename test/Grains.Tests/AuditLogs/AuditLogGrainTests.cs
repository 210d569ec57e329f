using Outpost.Grains.AuditLogs;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.Grains.Tests.AuditLogs;

[Collection(ClusterCollection.Name)]
public sealed class AuditLogGrainTests(OutpostClusterFixture fixture)
{
    private static AuditEvent Event(int i) =>
        new(DateTimeOffset.UnixEpoch.AddSeconds(i), $"user-{i}", "devices.list", "allowed", null, $"req-{i}");

    [Fact]
    public async Task AppendAsync_SeveralEvents_NumbersThemDenselyInOrder()
    {
        var log = fixture.Cluster.Client.GetGrain<IAuditLogGrain>("audit-order");

        var entries = new List<AuditEntry>();
        for (var i = 0; i < 5; i++)
        {
            entries.Add(await log.AppendAsync(Event(i)));
        }

        Assert.Equal([0L, 1, 2, 3, 4], entries.Select(e => e.Sequence));
        Assert.Equal(5, await log.CountAsync());
        var page = await log.ReadAsync(fromSequence: 2, maxCount: 2);
        Assert.Equal([Event(2), Event(3)], page.Select(e => e.Event));
    }

    [Fact]
    public async Task ReadAsync_AfterDeactivation_ReturnsWhatWasAppended()
    {
        var log = fixture.Cluster.Client.GetGrain<IAuditLogGrain>("audit-durable");
        await log.AppendAsync(Event(1));
        await log.AppendAsync(Event(2));

        await fixture.Cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        var all = await log.ReadAsync(0, 100);
        Assert.Equal([Event(1), Event(2)], all.Select(e => e.Event));
    }

    [Fact]
    public async Task ReadAsync_PastTheEnd_ReturnsEmpty()
    {
        var log = fixture.Cluster.Client.GetGrain<IAuditLogGrain>("audit-past-end");
        await log.AppendAsync(Event(1));

        Assert.Empty(await log.ReadAsync(10, 5));
    }
}
