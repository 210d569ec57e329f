using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Outpost.Gateway.AuditLogs;
using Outpost.Grains.AuditLogs;
using Outpost.Identity;
using Outpost.Testing.AuditLogs;
using Outpost.Testing.Cluster;
using Outpost.Testing.PostgreSql;
using Xunit;

namespace Outpost.Gateway.Tests.AuditLogs;

/// <summary>A control silo dies under load; every answered request still has exactly one durable audit event.</summary>
public sealed class AuditDurabilityTests(PostgreSqlFixture postgres) : IClassFixture<PostgreSqlFixture>
{
    // Many lightly loaded tenants: their events are staged, and handed to logs some of which die.
    [Fact]
    public async Task ControlSiloKilledUnderLoad_EveryAnsweredRequestHasItsEvent_AndRequestIdsAreUnique()
    {
        var paths = await KillUnderLoadAsync(tenants: 24, workers: 16, logOnVictim: false);

        Assert.True(paths.GetValueOrDefault("staged") > 0, "no event was staged");
    }

    // One busy tenant whose log is on the silo that dies: its batches go straight to the log until the kill, then are
    // staged when the direct write fails or hangs.
    [Fact]
    public async Task ControlSiloWithABusyTenantsLogKilledUnderLoad_EveryAnsweredRequestHasItsEvent_AndRequestIdsAreUnique()
    {
        var paths = await KillUnderLoadAsync(tenants: 1, workers: 48, logOnVictim: true);

        Assert.True(paths.GetValueOrDefault("direct") > 0, "no batch went straight to the log");
        Assert.True(paths.GetValueOrDefault("fallback") > 0, "no direct write fell back to the intake");
    }

    // Returns how many events the gateway made durable by each path, and how many fell back from direct to staged.
    private async Task<Dictionary<string, long>> KillUnderLoadAsync(int tenants, int workers, bool logOnVictim)
    {
        await using var cluster = await OutpostCluster.StartAsync(postgres.Server, new OutpostClusterSettings
        {
            GatewayConfiguration = new Dictionary<string, string?>
            {
                ["Limits:RequestsPerSecond"] = "100000",
                ["Limits:Burst"] = "100000",
            },
        });
        var management = cluster.Client.GetGrain<IManagementGrain>(0);
        var before = (await management.GetHosts(onlyActive: true)).Keys.ToHashSet();
        var victim = await cluster.StartControlSiloProcessAsync();
        var victimAddress = (await management.GetHosts(onlyActive: true)).Keys.Single(address => !before.Contains(address));
        var names = new List<string>();
        for (var i = 0; names.Count < tenants && i < 400; i++)
        {
            var name = $"durable-{i}";
            var log = cluster.Client.GetGrain<IAuditLogGrain>(name);
            await log.CountAsync();
            if (!logOnVictim || await management.GetActivationAddress(log) == victimAddress)
            {
                names.Add(name);
            }
            else
            {
                // Placement is random among the control silos the cluster knows; the new one becomes known shortly.
                await Task.Delay(50);
            }
        }

        Assert.True(names.Count == tenants, "no audit log was placed on the silo about to be killed");
        var clients = Enumerable.Range(0, Math.Max(tenants, 24))
            .Select(i => cluster.CreateHttpClient(cluster.IssueDevelopmentToken(names[i % tenants], [Scopes.SpendRead, Scopes.AuditRead], clientId: $"client-{i}")))
            .ToList();
        var paths = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var meters = cluster.Gateway.Services.GetRequiredService<IMeterFactory>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == AuditMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, meters))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var path = instrument.Name == "outpost.audit.direct_fallbacks" ? "fallback" : null;
            foreach (var tag in tags)
            {
                path ??= tag.Key == "path" ? tag.Value as string : null;
            }

            if (path is not null)
            {
                paths.AddOrUpdate(path, value, (_, total) => total + value);
            }
        });
        listener.Start();
        var answered = new ConcurrentBag<(string RequestId, HttpStatusCode Status)>();
        var unanswered = 0;
        using var stop = new CancellationTokenSource();

        var load = Enumerable.Range(0, workers).Select(worker => Task.Run(async () =>
        {
            for (var i = worker; !stop.IsCancellationRequested; i += workers)
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

        // Load first: enough answered requests that the kill lands among writes in flight (bounded, not timed, so that
        // a busy machine only makes it wait longer).
        for (var warm = DateTime.UtcNow.AddSeconds(60); answered.Count <= 50 && DateTime.UtcNow < warm;)
        {
            await Task.Delay(100);
        }

        await Task.Delay(TimeSpan.FromSeconds(1));
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
        // A log whose grain was on the dead silo answers 503 until the cluster has placed it again: ask again then.
        foreach (var client in clients)
        {
            var verification = await VerifyAsync(client);
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

        // The verify requests' own events may still be on their way from the intake; the load's are all logged.
        Assert.DoesNotContain(ids, staged.Contains);
        Assert.Equal(0, unanswered);
        return new Dictionary<string, long>(paths, StringComparer.Ordinal);
    }

    [Fact]
    public async Task NoControlSiloUp_RequestsAreStillAnsweredAndDurablyAudited_AndLoggedOnceOneIsBack()
    {
        await using var cluster = await OutpostCluster.StartAsync(postgres.Server, new OutpostClusterSettings { EdgeDevices = ["dev-pi-1"] });
        const string Tenant = "no-control";
        using var caller = cluster.CreateHttpClient(cluster.IssueDevelopmentToken(Tenant, [Scopes.SpendRead]));
        await cluster.StopSiloAsync(cluster.Control);

        // A refusal needs no grain; its audit event needs only PostgreSQL now.
        using var refused = await caller.PostAsJsonAsync("/v1/embeddings", new { model = "all-MiniLM-L6-v2", input = "x" });

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        var requestId = refused.Headers.GetValues("X-Request-Id").Single();
        Assert.Equal(Tenant, await AuditRows.DurableTenantAsync(cluster.ConnectionString, requestId));
        Assert.Equal(0, await CountLoggedAsync(cluster.ConnectionString, requestId));

        await cluster.StartControlSiloAsync();
        using var auditor = cluster.CreateHttpClient(cluster.IssueDevelopmentToken(Tenant, [Scopes.AuditRead]));
        HttpResponseMessage? found = null;
        for (var deadline = DateTime.UtcNow.AddSeconds(60); found is null && DateTime.UtcNow < deadline;)
        {
            // Until the gateway has met the new control silo, its grains are unreachable (503).
            var attempt = await auditor.GetAsync($"/v1/audit/events/{requestId}");
            if (attempt.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                attempt.Dispose();
                await Task.Delay(250);
                continue;
            }

            found = attempt;
        }

        using var read = Assert.IsType<HttpResponseMessage>(found);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        var logged = await read.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(("denied", "insufficient_scope"), (logged.GetProperty("decision").GetString(), logged.GetProperty("rule").GetString()));
        Assert.Equal(1, await CountLoggedAsync(cluster.ConnectionString, requestId));
    }

    [Fact]
    public async Task NoControlSiloUp_TheHandOverBacklogStaysBounded_AndEveryEventIsLoggedOnceOneIsBack()
    {
        await using var cluster = await OutpostCluster.StartAsync(postgres.Server, new OutpostClusterSettings
        {
            EdgeDevices = [],
            GatewayConfiguration = new Dictionary<string, string?>(ClusterScenario.NoRateLimit) { ["Audit:Writer:MaxHandOverBacklog"] = "5" },
        });
        const string Tenant = "bounded-backlog";
        using var caller = cluster.CreateHttpClient(cluster.IssueDevelopmentToken(Tenant, [Scopes.SpendRead]));
        var writer = cluster.Gateway.Services.GetRequiredService<AuditWriter>();
        await cluster.StopSiloAsync(cluster.Control);

        var requestIds = new List<string>();
        long highest = 0;
        for (var i = 0; i < 40; i++)
        {
            using var refused = await caller.PostAsJsonAsync("/v1/embeddings", new { model = "all-MiniLM-L6-v2", input = $"x{i}" });
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            requestIds.Add(refused.Headers.GetValues("X-Request-Id").Single());
            highest = Math.Max(highest, writer.HandOverBacklog);
        }

        Assert.InRange(highest, 1, 5);
        foreach (var id in requestIds)
        {
            Assert.Equal(Tenant, await AuditRows.DurableTenantAsync(cluster.ConnectionString, id));
        }

        await cluster.StartControlSiloAsync();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        var logged = 0L;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                await cluster.Client.GetGrain<IAuditLogGrain>(Tenant).IngestStagedAsync();
                logged = 0;
                foreach (var id in requestIds)
                {
                    logged += await CountLoggedAsync(cluster.ConnectionString, id);
                }

                if (logged == requestIds.Count)
                {
                    break;
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The gateway's client has not met the new control silo yet.
            }

            await Task.Delay(250);
        }

        Assert.Equal(requestIds.Count, logged);
    }

    private static async Task<long> CountLoggedAsync(string connectionString, string requestId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM outpost_audit_events WHERE request_id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = requestId });
        return (long)(await command.ExecuteScalarAsync())!;
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

    private static async Task<string> VerifyAsync(HttpClient client)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(60); ; await Task.Delay(500))
        {
            using var response = await client.GetAsync(new Uri("/v1/audit/verify", UriKind.Relative));
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable || DateTime.UtcNow > deadline)
            {
                response.EnsureSuccessStatusCode();
                return await response.Content.ReadAsStringAsync();
            }
        }
    }
}
