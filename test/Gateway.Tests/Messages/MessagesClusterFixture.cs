using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Outpost.Gateway.Routing;
using Outpost.Testing;
using Outpost.Testing.Anthropic;
using Outpost.Testing.Cluster;
using Outpost.Testing.Hailo;
using Outpost.Testing.PostgreSql;
using Xunit;

namespace Outpost.Gateway.Tests.Messages;

/// <summary>
/// One edge device serving the Hailo stand-in's LLM, and the Anthropic stand-in as the cloud upstream, with prices for
/// one cloud model ($3 / $15 per million tokens) and for edge tokens (2 micro-dollars each).
/// </summary>
public sealed class MessagesClusterFixture : IAsyncLifetime
{
    public const string DeviceId = "dev-pi-1";
    public const string CloudModel = "claude-sonnet-4-5";
    public const string EdgeModel = FakeHailoOllamaServer.DefaultModel;
    public const string UpstreamKey = "sk-upstream-test";
    public const long InputMicrosPerToken = 3;
    public const long OutputMicrosPerToken = 15;
    public const long EdgeMicrosPerToken = 2;

    private PostgreSqlServer? _postgres;
    private FakeHailoOllamaServer? _hailo;
    private FakeAnthropicServer? _anthropic;
    private OutpostCluster? _cluster;

    public OutpostCluster Cluster => _cluster ?? throw new InvalidOperationException("Not initialized.");

    public FakeAnthropicServer Anthropic => _anthropic ?? throw new InvalidOperationException("Not initialized.");

    public string GatewayUrl => Cluster.Http.BaseAddress!.ToString().TrimEnd('/');

    public async Task InitializeAsync()
    {
        _postgres = await PostgreSqlServer.StartAsync();
        _hailo = await FakeHailoOllamaServer.StartAsync();
        _anthropic = await FakeAnthropicServer.StartAsync();
        _cluster = await OutpostCluster.StartAsync(_postgres, new OutpostClusterSettings
        {
            EdgeDevices = [DeviceId],
            EdgeConfiguration = new Dictionary<string, string?> { ["Inference:Hailo:BaseUrl"] = _hailo.BaseUrl.ToString() },
            GatewayConfiguration = new Dictionary<string, string?>
            {
                ["Cloud:Anthropic:BaseUrl"] = _anthropic.BaseUrl,
                ["Cloud:Anthropic:ApiKey"] = UpstreamKey,
                [$"Pricing:CloudModels:{CloudModel}:InputPerMillionMicros"] = "3000000",
                [$"Pricing:CloudModels:{CloudModel}:OutputPerMillionMicros"] = "15000000",
                ["Pricing:EdgeGenerationTokenMicros"] = EdgeMicrosPerToken.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Limits:RequestsPerSecond"] = "100000",
                ["Limits:Burst"] = "100000",
            },
        });

        await _cluster.WaitForDeviceAsync(DeviceId, online: true);
        var catalog = _cluster.Gateway.Services.GetRequiredService<DeviceCatalog>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!catalog.Devices.Any(d => d.Online && d.Record.Registration.Models.Any(m => m.Name == EdgeModel)))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The gateway never saw {DeviceId} serving {EdgeModel}.");
            }

            catalog.RequestRefresh();
            await Task.Delay(200);
        }
    }

    /// <summary>A tenant with a budget; cloud models only when <paramref name="cloudAllowed"/>.</summary>
    public async Task CreateTenantAsync(string tenant, bool cloudAllowed)
    {
        await using (var data = NpgsqlDataSource.Create(Cluster.ConnectionString))
        await using (var command = data.CreateCommand("INSERT INTO outpost_tenants (tenant_id, display_name) VALUES (@tenant, @tenant) ON CONFLICT DO NOTHING"))
        {
            command.Parameters.AddWithValue("tenant", tenant);
            await command.ExecuteNonQueryAsync();
        }

        await Cluster.Client.GetGrain<Outpost.Grains.TenantQuotas.ITenantQuotaGrain>(tenant).SetLimitsAsync(
            new Outpost.Grains.TenantQuotas.TenantLimits(100_000_000, Outpost.Grains.TenantQuotas.BudgetPeriod.Monthly, 0, 0, CloudFallbackAllowed: cloudAllowed));
    }

    /// <summary>The tenant's ledger rows, oldest first.</summary>
    public async Task<List<LedgerRow>> LedgerAsync(string tenant)
    {
        await using var data = NpgsqlDataSource.Create(Cluster.ConnectionString);
        await using var command = data.CreateCommand(
            "SELECT kind, target, cost_micros, input_tokens, output_tokens FROM outpost_spend_ledger WHERE tenant_id = @tenant ORDER BY id");
        command.Parameters.AddWithValue("tenant", tenant);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<LedgerRow>();
        while (await reader.ReadAsync())
        {
            rows.Add(new LedgerRow(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt32(3), reader.GetInt32(4)));
        }

        return rows;
    }

    public Task DisposeAsync() => Disposal.DisposeInOrderAsync(_cluster, _anthropic, _hailo, _postgres);
}
