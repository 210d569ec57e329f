using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Outpost.Identity;
using Outpost.Testing.Cluster;
using Outpost.Testing.Hailo;
using Xunit;

namespace Outpost.Gateway.Tests.Security;

/// <summary>
/// A one-device cluster whose gateway has low limits, so that tests can reach each of them with a few requests: a
/// small token bucket per client, small bodies, headers and URLs, a request timeout that a slowed-down LLM stand-in can
/// outlast, and a grain-call timeout shorter than that.
/// </summary>
public sealed class LimitsClusterFixture() : OutpostClusterFixture(new ClusterScenario
{
    EdgeDevices = [DeviceId],
    Hailo = true,
    GatewayConfiguration = new Dictionary<string, string?>
    {
        ["Limits:RequestsPerSecond"] = RequestsPerSecond.ToString(CultureInfo.InvariantCulture),
        ["Limits:Burst"] = Burst.ToString(CultureInfo.InvariantCulture),
        ["Limits:AnonymousRequestsPerSecond"] = "2",
        ["Limits:MaxRequestBodyBytes"] = MaxRequestBodyBytes.ToString(CultureInfo.InvariantCulture),
        ["Limits:MaxEmbeddingsBodyBytes"] = MaxEmbeddingsBodyBytes.ToString(CultureInfo.InvariantCulture),
        ["Limits:MaxHeaderBytes"] = MaxHeaderBytes.ToString(CultureInfo.InvariantCulture),
        ["Limits:MaxUrlLength"] = MaxUrlLength.ToString(CultureInfo.InvariantCulture),
        ["Limits:RequestTimeout"] = RequestTimeout.ToString("c", CultureInfo.InvariantCulture),
        ["Cluster:ResponseTimeout"] = ResponseTimeout.ToString("c", CultureInfo.InvariantCulture),
    },
})
{
    public const string DeviceId = "dev-pi-1";

    public const string EmbeddingModel = "all-MiniLM-L6-v2";

    public const int RequestsPerSecond = 1;

    public const int Burst = 3;

    public const int MaxRequestBodyBytes = 4096;

    public const int MaxEmbeddingsBodyBytes = 65536;

    public const int MaxHeaderBytes = 4096;

    public const int MaxUrlLength = 512;

    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(8);

    /// <summary>The gateway's grain-call timeout, shorter than the request timeout so a whole generation can outlast it.</summary>
    public static readonly TimeSpan ResponseTimeout = TimeSpan.FromSeconds(3);

    private static readonly TimeSpan WarmUpLimit = TimeSpan.FromSeconds(90);

    protected override async Task OnStartedAsync()
    {
        // The device catalog and the embedding model load in the background; a cold first request could outlast the timeout.
        using var http = Cluster.CreateHttpClient(Cluster.IssueDevelopmentToken(OutpostCluster.DefaultTenant, [.. Scopes.All], clientId: "limits-warm-up"));
        await WaitUntilServedAsync(http, "/v1/embeddings", JsonSerializer.Serialize(new { model = EmbeddingModel, input = "warm-up" }));
        await WaitUntilServedAsync(http, "/v1/infer", JsonSerializer.Serialize(new
        {
            task = "generate",
            payload = new { model = FakeHailoOllamaServer.DefaultModel, prompt = "warm up", max_tokens = 8 },
        }));
    }

    private static async Task WaitUntilServedAsync(HttpClient http, string path, string json)
    {
        var deadline = DateTime.UtcNow + WarmUpLimit;
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            using var response = await http.PostAsync(new Uri(path, UriKind.Relative), new StringContent(json, Encoding.UTF8, "application/json"));
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return;
            }

            last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";

            // Slower than the bucket refills, so that the warm-up measures the cluster, not the rate limit.
            await Task.Delay(TimeSpan.FromSeconds(1.0 / RequestsPerSecond));
        }

        throw new TimeoutException($"The gateway did not serve {path} within {WarmUpLimit}; last answer: {last}");
    }
}

[CollectionDefinition(Name)]
public sealed class LimitsClusterCollection : ICollectionFixture<LimitsClusterFixture>
{
    public const string Name = "limits-cluster";
}
