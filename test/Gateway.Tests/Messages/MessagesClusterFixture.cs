using Npgsql;
using Outpost.Testing.Cluster;
using Outpost.Testing.Hailo;

namespace Outpost.Gateway.Tests.Messages;

/// <summary>
/// One edge device serving the Hailo stand-in's LLM, and the Anthropic stand-in as the cloud upstream, with prices for
/// one cloud model ($3 / $15 per million tokens) and for edge tokens (2 micro-dollars each).
/// </summary>
public class MessagesClusterFixture : OutpostClusterFixture
{
    public MessagesClusterFixture()
        : this(null)
    {
    }

    /// <summary>The same cluster with <paramref name="gatewayOverrides"/> in the gateway's configuration.</summary>
    protected MessagesClusterFixture(IReadOnlyDictionary<string, string?>? gatewayOverrides)
        : base(new ClusterScenario
        {
            EdgeDevices = [DeviceId],
            Hailo = true,
            Anthropic = true,
            GatewayConfiguration = Gateway(gatewayOverrides),
        })
    {
    }

    public const string DeviceId = "dev-pi-1";
    public const string CloudModel = "claude-sonnet-4-5";
    public const string EdgeModel = FakeHailoOllamaServer.DefaultModel;
    public const string UpstreamKey = "sk-upstream-test";
    public const long InputMicrosPerToken = 3;
    public const long OutputMicrosPerToken = 15;
    public const long EdgeMicrosPerToken = 2;

    private static Dictionary<string, string?> Gateway(IReadOnlyDictionary<string, string?>? overrides)
    {
        var settings = new Dictionary<string, string?>(ClusterScenario.NoRateLimit)
        {
            ["Cloud:Anthropic:ApiKey"] = UpstreamKey,
            [$"Pricing:CloudModels:{CloudModel}:InputPerMillionMicros"] = "3000000",
            [$"Pricing:CloudModels:{CloudModel}:OutputPerMillionMicros"] = "15000000",
            ["Pricing:EdgeGenerationTokenMicros"] = EdgeMicrosPerToken.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return settings;
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
}
