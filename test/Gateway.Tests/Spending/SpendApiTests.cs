using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Outpost.Grains.TenantQuotas;
using Outpost.Identity;
using Outpost.Testing.Cluster;
using Outpost.Testing.PostgreSql;
using Xunit;

namespace Outpost.Gateway.Tests.Spending;

/// <summary>Budgets enforced through the HTTP gateway: exact under concurrency, charged to the ledger, reported back.</summary>
public sealed class SpendApiTests(PostgreSqlFixture postgres) : IClassFixture<PostgreSqlFixture>, IAsyncLifetime
{
    private const long PricePerRequest = 1_000;
    private OutpostCluster? _cluster;

    private OutpostCluster Cluster => _cluster!;

    public async Task InitializeAsync()
    {
        _cluster = await OutpostCluster.StartAsync(postgres.Server, new OutpostClusterSettings
        {
            EdgeDevices = ["dev-pi-1"],
            GatewayConfiguration = new Dictionary<string, string?>
            {
                ["Pricing:EdgeRequestMicros"] = PricePerRequest.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Limits:RequestsPerSecond"] = "100000",
                ["Limits:Burst"] = "100000",
            },
        });
        // The gateway routes by its own catalog of devices, refreshed every second: wait until it has the device too.
        await _cluster.WaitForDeviceAsync("dev-pi-1", online: true);
        var catalog = _cluster.Gateway.Services.GetRequiredService<Outpost.Gateway.Routing.DeviceCatalog>();
        for (var i = 0; i < 300 && !catalog.Devices.Any(d => d.Online && d.Record.Registration.DeviceId == "dev-pi-1"); i++)
        {
            await Task.Delay(100);
        }

        await using var data = NpgsqlDataSource.Create(_cluster.ConnectionString);
        await using var command = data.CreateCommand(
            "INSERT INTO outpost_tenants (tenant_id, display_name) VALUES ('exact', 'Exact'), ('overflow', 'Overflow'), ('unset', 'Unset'), ('limited', 'Limited') ON CONFLICT DO NOTHING");
        await command.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task Embeddings_ThousandConcurrentRequestsFromFiveClients_ExactlyTheBudgetedNumberSucceed()
    {
        const int Budgeted = 37;
        await Cluster.Client.GetGrain<ITenantQuotaGrain>("exact").SetLimitsAsync(
            new TenantLimits(Budgeted * PricePerRequest, BudgetPeriod.Monthly, 0, 0, EdgeContinuesOverBudget: false));
        var clients = Enumerable.Range(1, 5)
            .Select(i => Cluster.CreateHttpClient(Cluster.IssueDevelopmentToken("exact", [Scopes.EmbedCreate, Scopes.SpendRead], clientId: $"client-{i}")))
            .ToList();
        var results = new List<(HttpStatusCode Status, long Cost, string? Type)>();

        await Parallel.ForEachAsync(Enumerable.Range(0, 1000), new ParallelOptions { MaxDegreeOfParallelism = 48 }, async (i, cancellationToken) =>
        {
            using var response = await clients[i % 5].PostAsJsonAsync(
                "/v1/embeddings", new { model = "all-MiniLM-L6-v2", input = $"exactness {i}" }, cancellationToken);
            var cost = response.Headers.TryGetValues("X-Outpost-Cost", out var values) ? long.Parse(values.Single(), System.Globalization.CultureInfo.InvariantCulture) : 0;
            string? type = null;
            if (!response.IsSuccessStatusCode)
            {
                type = (await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("type").GetString();
            }

            lock (results)
            {
                results.Add((response.StatusCode, cost, type));
            }
        });

        Assert.Equal(Budgeted, results.Count(r => r.Status == HttpStatusCode.OK));
        Assert.All(results.Where(r => r.Status != HttpStatusCode.OK), r =>
        {
            Assert.Equal(HttpStatusCode.PaymentRequired, r.Status);
            Assert.Equal("https://outpost.dev/problems/budget-exhausted", r.Type);
        });
        var charged = results.Where(r => r.Status == HttpStatusCode.OK).Sum(r => r.Cost);
        Assert.Equal(Budgeted * PricePerRequest, charged);
        Assert.Equal(charged, await LedgerSumAsync("exact"));
        Assert.Equal(charged, (await Cluster.Client.GetGrain<ITenantQuotaGrain>("exact").GetStatusAsync()).CommittedMicros);

        var report = await clients[0].GetFromJsonAsync<JsonElement>("/v1/spend?groupBy=client");
        Assert.Equal(charged, report.GetProperty("total_micros").GetInt64());
        Assert.Equal(charged, report.GetProperty("data").EnumerateArray().Sum(r => r.GetProperty("cost_micros").GetInt64()));
        Assert.Equal(0, report.GetProperty("budget").GetProperty("remaining_micros").GetInt64());
    }

    [Fact]
    public async Task Embeddings_OverBudgetWhenEdgeMayContinue_ServedAtZeroCost()
    {
        await Cluster.Client.GetGrain<ITenantQuotaGrain>("overflow").SetLimitsAsync(
            new TenantLimits(2 * PricePerRequest, BudgetPeriod.Daily, 0, 0, EdgeContinuesOverBudget: true));
        using var client = Cluster.CreateHttpClient(Cluster.IssueDevelopmentToken("overflow", [Scopes.EmbedCreate]));

        var costs = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await client.PostAsJsonAsync("/v1/embeddings", new { model = "all-MiniLM-L6-v2", input = $"overflow {i}" });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            costs.Add(response.Headers.GetValues("X-Outpost-Cost").Single());
            Assert.StartsWith("edge:", response.Headers.GetValues("X-Outpost-Target").Single(), StringComparison.Ordinal);
        }

        Assert.Equal(["1000", "1000", "0", "0"], costs);
        Assert.Equal(2 * PricePerRequest, await LedgerSumAsync("overflow"));
    }

    [Fact]
    public async Task Embeddings_PaidWorkForTenantWithoutBudget_Refused402()
    {
        using var client = Cluster.CreateHttpClient(Cluster.IssueDevelopmentToken("unset", [Scopes.EmbedCreate]));

        using var response = await client.PostAsJsonAsync("/v1/embeddings", new { model = "all-MiniLM-L6-v2", input = "no budget" });

        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
        Assert.Equal("https://outpost.dev/problems/no-budget", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());
    }

    [Fact]
    public async Task Spend_BadGroupingOrMissingScope_Refused()
    {
        using var reader = Cluster.CreateHttpClient(Cluster.IssueDevelopmentToken("exact", [Scopes.SpendRead]));
        using var other = Cluster.CreateHttpClient(Cluster.IssueDevelopmentToken("exact", [Scopes.EmbedCreate]));

        using var badGrouping = await reader.GetAsync("/v1/spend?groupBy=planet");
        using var badTime = await reader.GetAsync("/v1/spend?from=yesterday");
        using var noScope = await other.GetAsync("/v1/spend");

        Assert.Equal(HttpStatusCode.BadRequest, badGrouping.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badTime.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, noScope.StatusCode);
    }

    [Fact]
    public async Task Limits_SetByOperatorsOnly_ReadableByTheTenantAndHiddenFromOthers()
    {
        using var system = Cluster.CreateHttpClient(Cluster.IssueDevelopmentToken(OutpostClaims.SystemTenant, [Scopes.Admin]));
        using var tenantAdmin = Cluster.CreateHttpClient(Cluster.IssueDevelopmentToken("limited", [Scopes.Admin]));
        using var otherAdmin = Cluster.CreateHttpClient(Cluster.IssueDevelopmentToken("overflow", [Scopes.Admin]));
        var body = new { budget_micros = 5_000_000, period = "daily", requests_per_minute = 60, tokens_per_minute = 0, cloud_fallback_allowed = true };

        using var set = await system.PutAsJsonAsync("/v1/admin/tenants/limited/limits", body);
        using var bySelf = await tenantAdmin.PutAsJsonAsync("/v1/admin/tenants/limited/limits", body);
        using var invalid = await system.PutAsJsonAsync("/v1/admin/tenants/limited/limits", body with { period = "hourly" });
        using var missing = await system.PutAsJsonAsync("/v1/admin/tenants/no-such-tenant/limits", body);
        var read = await tenantAdmin.GetFromJsonAsync<JsonElement>("/v1/admin/tenants/limited/limits");
        using var hidden = await otherAdmin.GetAsync("/v1/admin/tenants/limited/limits");

        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, bySelf.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(5_000_000, read.GetProperty("budget_micros").GetInt64());
        Assert.Equal("daily", read.GetProperty("period").GetString());
        Assert.True(read.GetProperty("cloud_fallback_allowed").GetBoolean());
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        Assert.Equal(
            new TenantLimits(5_000_000, BudgetPeriod.Daily, 60, 0, CloudFallbackAllowed: true),
            await Cluster.Client.GetGrain<ITenantQuotaGrain>("limited").GetLimitsAsync());
    }

    private async Task<long> LedgerSumAsync(string tenant)
    {
        await using var data = NpgsqlDataSource.Create(Cluster.ConnectionString);
        await using var command = data.CreateCommand("SELECT coalesce(sum(cost_micros), 0) FROM outpost_spend_ledger WHERE tenant_id = @tenant");
        command.Parameters.AddWithValue("tenant", tenant);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
