using Microsoft.Extensions.DependencyInjection;
using Outpost.AuditLog.Reading;
using Outpost.AuditLog.Storage;
using Outpost.Grains.AuditLogs;
using Outpost.Testing.AuditLogs;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.AuditLog.Tests.Reading;

/// <summary>Pages of events with stored bodies hold a bounded number of body bytes, and their cursors lose nothing.</summary>
[Collection(ClusterCollection.Name)]
public sealed class AuditReaderPagingTests(OutpostClusterFixture fixture)
{
    [Fact]
    public async Task ReadPage_LargeBodies_StopsAtTheByteBudget_AndTheCursorContinuesWithNothingLost()
    {
        var tenant = AuditSamples.NewTenant("paging-bodies");
        var body = new byte[3 * 1024 * 1024];
        var events = Enumerable.Range(0, 6).Select(i => AuditSamples.Event(i) with { RequestBody = body, ResponseBody = [] }).ToList();
        var log = fixture.Cluster.Client.GetGrain<IAuditLogGrain>(tenant);
        foreach (var batch in events.Chunk(2))
        {
            await log.AppendBatchAsync(batch);
        }

        var services = fixture.Cluster.Control.Host.Services;
        var reader = new AuditReader(services.GetRequiredService<AuditStore>(), fixture.Cluster.Client);
        var pages = new List<AuditPage>();
        var query = new AuditQuery();
        while (pages.Count < 10)
        {
            var page = await reader.ReadPageAsync(tenant, query, limit: 10);
            pages.Add(page);
            if (page.NextCursor is not { } cursor)
            {
                break;
            }

            query = new AuditQuery(AfterSequence: AuditReader.DecodeCursor(cursor));
        }

        Assert.All(pages, page => Assert.True(
            page.Entries.Sum(e => e.Event.RequestBody!.Length) <= AuditReader.MaxPageBodyBytes, "a page holds more body bytes than its budget"));
        Assert.True(pages.Count >= 3, $"{pages.Count} pages for 18 MiB of bodies");
        Assert.Equal(Enumerable.Range(0, 6).Select(i => (long)i), pages.SelectMany(p => p.Entries).Select(e => e.Sequence));
        var exported = new List<long>();
        await foreach (var entry in reader.ExportAsync(tenant, new AuditQuery()))
        {
            exported.Add(entry.Sequence);
        }

        Assert.Equal(Enumerable.Range(0, 6).Select(i => (long)i), exported);
    }
}
