using System.Collections.Concurrent;
using System.Net;
using Npgsql;
using Outpost.Gateway.Identity;
using Outpost.Testing.Cluster;
using Outpost.Testing.PostgreSql;
using Xunit;

namespace Outpost.Gateway.Tests.AuditLogs;

/// <summary>A control silo dies under load; every answered request still has exactly one durable audit event.</summary>
public sealed class AuditDurabilityTests(PostgreSqlFixture postgres) : IClassFixture<PostgreSqlFixture>
{
    [Fact]
    public async Task ControlSiloKilledUnderLoad_EveryAnsweredRequestHasItsEvent_AndRequestIdsAreUnique()
    {
        await using var cluster = await OutpostCluster.StartAsync(postgres.Server, new OutpostClusterSettings
        {
            GatewayConfiguration = new Dictionary<string, string?>
            {
                ["Limits:RequestsPerSecond"] = "100000",
                ["Limits:Burst"] = "100000",
            },
        });
        var victim = await cluster.StartControlSiloProcessAsync();
        var clients = Enumerable.Range(0, 24)
            .Select(i => cluster.CreateHttpClient(cluster.IssueDevelopmentToken($"durable-{i}", [Scopes.SpendRead, Scopes.AuditRead])))
            .ToList();
        var answered = new ConcurrentBag<(string RequestId, HttpStatusCode Status)>();
        var unanswered = 0;
        using var stop = new CancellationTokenSource();

        var load = Enumerable.Range(0, 16).Select(worker => Task.Run(async () =>
        {
            for (var i = worker; !stop.IsCancellationRequested; i += 16)
            {
                try
                {
                    using var response = await clients[i % clients.Count].GetAsync("/v1/spend", CancellationToken.None);
                    answered.Add((response.Headers.GetValues("X-Request-Id").Single(), response.StatusCode));
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref unanswered);
                }
            }
        })).ToList();

        await Task.Delay(TimeSpan.FromSeconds(3));
        var beforeKill = answered.Count;
        await victim.KillAsync();

        // Keep the load on until the cluster has noticed the death and served plenty more (bounded, not timed).
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (answered.Count < beforeKill + 200 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        await stop.CancelAsync();
        await Task.WhenAll(load);

        // Every answered request was durable when it was answered: logged, or staged for its log.
        // One statement, so one snapshot: an event moving from the intake to the log is seen in exactly one of them.
        var durable = await ReadStoredRequestIdsAsync(
            cluster.ConnectionString, "(SELECT tenant_id, request_id FROM outpost_audit_events UNION ALL SELECT tenant_id, request_id FROM outpost_audit_intake) AS durable");
        var notDurable = answered.Count(a => !durable.Contains(a.RequestId));

        // Reading a log first logs what is staged for it; afterwards every event is in the log and none is staged.
        foreach (var client in clients)
        {
            var verification = await client.GetStringAsync("/v1/audit/verify");
            Assert.Contains("\"valid\":true", verification, StringComparison.Ordinal);
        }

        var stored = await ReadStoredRequestIdsAsync(cluster.ConnectionString, "outpost_audit_events");
        var staged = await ReadStoredRequestIdsAsync(cluster.ConnectionString, "outpost_audit_intake");
        var ids = answered.Select(a => a.RequestId).ToList();
        Assert.True(beforeKill > 50, $"only {beforeKill} requests before the kill");
        Assert.True(answered.Count >= beforeKill + 200, $"only {answered.Count - beforeKill} requests after the kill");
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        var missing = ids.Where(id => !stored.Contains(id)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {ids.Count} answered requests have no audit event; statuses: "
            + string.Join(", ", answered.Where(a => missing.Contains(a.RequestId)).GroupBy(a => a.Status).Select(g => $"{g.Key} x{g.Count()}")));
        Assert.Equal(0, notDurable);
        Assert.Empty(staged);
        Assert.Equal(0, unanswered);
    }

    private static async Task<HashSet<string>> ReadStoredRequestIdsAsync(string connectionString, string table)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT request_id FROM {table} WHERE tenant_id LIKE 'durable-%'", connection);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            Assert.True(ids.Add(reader.GetString(0)));
        }

        return ids;
    }
}
