using System.Globalization;
using System.Net;
using Outpost.Testing.Anthropic;
using Outpost.Testing.Hailo;
using Outpost.Testing.PostgreSql;
using Xunit;

namespace Outpost.Testing.Cluster;

/// <summary>
/// One PostgreSQL server, the stand-ins its <see cref="ClusterScenario"/> asks for, and one cluster (a control silo,
/// the scenario's edge silos, the gateway), shared by a test collection. Ready means ready: it returns once the
/// gateway's <c>/readyz</c> says its router sees every device. A fixture with other needs passes its own scenario and,
/// when it must prepare data, overrides <see cref="OnStartedAsync"/>. Without one: two devices, Server-Timing on.
/// </summary>
public class OutpostClusterFixture : IAsyncLifetime
{
    private static readonly TimeSpan ReadyLimit = TimeSpan.FromMinutes(2);

    private PostgreSqlServer? _postgres;
    private FakeHailoOllamaServer? _hailo;
    private FakeAnthropicServer? _anthropic;
    private OutpostCluster? _cluster;

    public OutpostClusterFixture()
        : this(new ClusterScenario { GatewayConfiguration = new Dictionary<string, string?> { ["Diagnostics:ServerTiming"] = "true" } })
    {
    }

    protected OutpostClusterFixture(ClusterScenario scenario) => Scenario = scenario;

    public ClusterScenario Scenario { get; }

    public PostgreSqlServer Postgres => _postgres ?? throw new InvalidOperationException("Not initialized.");

    public OutpostCluster Cluster => _cluster ?? throw new InvalidOperationException("Not initialized.");

    public FakeHailoOllamaServer Hailo => _hailo ?? throw new InvalidOperationException("This scenario has no Hailo stand-in.");

    public FakeAnthropicServer Anthropic => _anthropic ?? throw new InvalidOperationException("This scenario has no Anthropic stand-in.");

    public string GatewayUrl => Cluster.Http.BaseAddress!.ToString().TrimEnd('/');

    public async Task InitializeAsync()
    {
        _postgres = await PostgreSqlServer.StartAsync();
        _hailo = Scenario.Hailo ? await FakeHailoOllamaServer.StartAsync() : null;
        _anthropic = Scenario.Anthropic ? await FakeAnthropicServer.StartAsync() : null;

        var edge = new Dictionary<string, string?>(Scenario.EdgeConfiguration);
        if (_hailo is not null)
        {
            edge["Inference:Hailo:BaseUrl"] = _hailo.BaseUrl.ToString();
        }

        var gateway = new Dictionary<string, string?>(Scenario.GatewayConfiguration)
        {
            ["Routing:ReadyMinDevices"] = Scenario.EdgeDevices.Count.ToString(CultureInfo.InvariantCulture),
        };
        if (_anthropic is not null)
        {
            gateway["Cloud:Anthropic:BaseUrl"] = _anthropic.BaseUrl;
        }

        _cluster = await OutpostCluster.StartAsync(_postgres, new OutpostClusterSettings
        {
            EdgeDevices = Scenario.EdgeDevices,
            EdgeConfiguration = edge,
            GatewayConfiguration = gateway,
            ControlConfiguration = Scenario.ControlConfiguration,
        });
        await WaitUntilReadyAsync();
        await OnStartedAsync();
    }

    public Task DisposeAsync() => Disposal.DisposeInOrderAsync(_cluster, _anthropic, _hailo, _postgres);

    /// <summary>Runs once the cluster is ready, before the first test: data the scenario's tests share, warm-ups.</summary>
    protected virtual Task OnStartedAsync() => Task.CompletedTask;

    private async Task WaitUntilReadyAsync()
    {
        // Anonymous, as an orchestrator's probe, and slower than the tightest anonymous rate limit a scenario sets, so
        // that no test's client or bucket is spent here.
        using var probe = Cluster.CreateHttpClient();
        var deadline = DateTime.UtcNow + ReadyLimit;
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            using var response = await probe.GetAsync(new Uri("/readyz", UriKind.Relative));
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return;
            }

            last = await response.Content.ReadAsStringAsync();
            await Task.Delay(500);
        }

        throw new TimeoutException($"The gateway was not ready within {ReadyLimit}: {last}");
    }
}
