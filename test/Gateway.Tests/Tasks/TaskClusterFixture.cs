using System.Formats.Tar;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.Gateway.Tests.Tasks;

/// <summary>
/// One control silo, one edge silo with the real bubblewrap sandbox, the gateway with a test policy: unit tests run at
/// once, <c>build</c> waits for a human, <c>deploy</c> for a tenant admin, <c>slow-approval</c> expires in 2 s,
/// <c>forbidden</c> never runs. The control plane checks its runs every 200 ms, so deadlines show in seconds.
/// </summary>
public sealed class TaskClusterFixture : OutpostClusterFixture
{
    public const string DeviceId = "dev-pi-1";
    public const string Tenant = OutpostCluster.DefaultTenant;

    /// <summary>The gateway's artifact size limit here: 6 MiB, so that a test can go past it cheaply.</summary>
    public const long MaxArtifactBytes = 6L * 1024 * 1024;

    public const string Policy = """
        defaults: { wall_seconds: 60, cpu_seconds: 60, memory_mb: 512, processes: 64, output_kb: 1024, file_size_mb: 16, open_files: 256 }
        maximums: { wall_seconds: 600, cpu_seconds: 600, memory_mb: 2048, processes: 256, output_kb: 65536, file_size_mb: 256, open_files: 1024 }
        approval_timeout: "00:10:00"
        rules:
          - name: test-unit-tests
            match: { kinds: [unit-test], programs: [python3, /bin/sh, sleep], within_default_limits: true }
            decision: allow
          - name: admins-deploy
            match: { kinds: [deploy] }
            decision: approve-admin
          - name: quick-expiry
            match: { kinds: [slow-approval] }
            decision: approve
            approval_timeout: "00:00:02"
          - name: never
            match: { kinds: [forbidden] }
            decision: deny
        default: approve
        """;

    private static readonly string PolicyFile = WritePolicy();

    public TaskClusterFixture()
        : base(new ClusterScenario
        {
            EdgeDevices = [DeviceId],
            GatewayConfiguration = new Dictionary<string, string?>(ClusterScenario.NoRateLimit)
            {
                ["Tasks:PolicyFile"] = PolicyFile,
                ["Artifacts:MaxArtifactBytes"] = MaxArtifactBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
            ControlConfiguration = new Dictionary<string, string?>
            {
                ["Tasks:MonitorInterval"] = "00:00:00.200",
                ["Tasks:ResultGrace"] = "00:00:05",
            },
            EdgeConfiguration = new Dictionary<string, string?>
            {
                ["Edge:Sandbox:MaxConcurrentRuns"] = "4",
                ["Edge:Tasks:LogFlushInterval"] = "00:00:00.050",
            },
        })
    {
    }

    /// <summary>A client of the default tenant with the scopes a desktop agent gets to run tasks.</summary>
    public HttpClient Agent(string clientId = "agent") =>
        Cluster.CreateHttpClient(Cluster.IssueDevelopmentToken(Tenant, ["code:execute", "tasks:read", "approvals:decide"], clientId: clientId));

    /// <summary>A reviewer: another subject of the same tenant that may decide approvals.</summary>
    public HttpClient Reviewer(string clientId = "reviewer", bool admin = false) =>
        Cluster.CreateHttpClient(Cluster.IssueDevelopmentToken(Tenant, admin ? ["tasks:read", "approvals:decide", "admin"] : ["tasks:read", "approvals:decide"], clientId: clientId));

    /// <summary>A small Python project with one passing test, or one failing test too; its runner writes a JUnit report.</summary>
    public static byte[] PythonProject(bool failing)
    {
        var files = new Dictionary<string, string>
        {
            ["calc/__init__.py"] = "def add(a, b):\n    return a + b\n",
            ["tests/__init__.py"] = "",
            ["tests/test_calc.py"] = "import unittest\nfrom calc import add\n\nclass CalcTests(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n"
                + (failing ? "\n    def test_broken(self):\n        self.assertEqual(add(2, 2), 5)\n" : string.Empty),
            ["run_tests.py"] = """
                import sys, unittest, xml.etree.ElementTree as ET
                suite = unittest.defaultTestLoader.discover('tests', top_level_dir='.')
                result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
                root = ET.Element('testsuite', name='unit', tests=str(result.testsRun), failures=str(len(result.failures)), errors=str(len(result.errors)))
                ET.ElementTree(root).write('report.xml')
                print('report written', flush=True)
                sys.exit(0 if result.wasSuccessful() else 1)
                """.Replace("                ", string.Empty, StringComparison.Ordinal),
        };
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var directory in new[] { "calc/", "tests/" })
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, directory) { Mode = (UnixFileMode)0b111_101_101 });
            }

            foreach (var (name, text) in files)
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)), Mode = (UnixFileMode)0b110_100_100 });
            }
        }

        return buffer.ToArray();
    }

    /// <summary>Uploads bytes as an artifact; returns its digest.</summary>
    public static async Task<string> UploadAsync(HttpClient client, byte[] content)
    {
        using var body = new ByteArrayContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await client.PutAsync(new Uri("/v1/artifacts", UriKind.Relative), body);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("digest").GetString()!;
    }

    /// <summary>Submits a task; returns the response (status and body).</summary>
    public static async Task<(System.Net.HttpStatusCode Status, JsonElement Body)> SubmitAsync(HttpClient client, object task, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/tasks") { Content = JsonContent.Create(task) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        using var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    /// <summary>Polls a run until <paramref name="done"/> holds for it, or fails after <paramref name="limit"/>.</summary>
    public static async Task<JsonElement> WaitForAsync(HttpClient client, string runId, Func<JsonElement, bool> done, TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? TimeSpan.FromSeconds(90));
        JsonElement last = default;
        while (DateTime.UtcNow < deadline)
        {
            // A silo that just died answers 503 until the cluster has moved on: keep asking.
            using var response = await client.GetAsync(new Uri($"/v1/tasks/{runId}", UriKind.Relative));
            if (response.IsSuccessStatusCode)
            {
                last = await response.Content.ReadFromJsonAsync<JsonElement>();
                if (done(last))
                {
                    return last;
                }
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"Run {runId} did not get there; last seen: {last}");
    }

    public static bool Ended(JsonElement run) =>
        run.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled" or "rejected" or "timed_out" or "expired";

    private static string WritePolicy()
    {
        var file = Path.Combine(Path.GetTempPath(), $"outpost-test-policy-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, Policy);
        return file;
    }
}
