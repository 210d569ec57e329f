using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.Gateway.Tests.Endpoints;

[Collection("cluster")]
public sealed class DevicesEndpointsTests(OutpostClusterFixture fixture)
{
    private OutpostCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task ListDevices_TwoEdgeSilos_ListsBothOnlineWithTheirSilos()
    {
        var devices = await ListAsync();

        foreach (var id in new[] { "dev-pi-1", "dev-pi-2" })
        {
            var device = devices[id];
            Assert.Equal("online", device.GetProperty("status").GetString());
            Assert.Equal(Cluster.Edge(id).Address.ToParsableString(), device.GetProperty("silo").GetString());
            Assert.True(device.GetProperty("last_heartbeat").GetDateTimeOffset() >= device.GetProperty("registered_at").GetDateTimeOffset());
            var capabilities = device.GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()).ToList();
            Assert.Contains($"cpus:{Environment.ProcessorCount}", capabilities);
            Assert.False(string.IsNullOrEmpty(device.GetProperty("software_version").GetString()));
        }
    }

    [Fact]
    public async Task ListDevices_Heartbeats_AdvanceLastHeartbeat()
    {
        var first = (await ListAsync())["dev-pi-1"].GetProperty("last_heartbeat").GetDateTimeOffset();

        DateTimeOffset later = first;
        for (var attempt = 0; attempt < 100 && later <= first; attempt++)
        {
            await Task.Delay(100);
            later = (await ListAsync())["dev-pi-1"].GetProperty("last_heartbeat").GetDateTimeOffset();
        }

        Assert.True(later > first, $"last_heartbeat stayed at {first:O}");
    }

    [Fact]
    public async Task GetDevice_Unknown_Returns404ProblemJson()
    {
        using var response = await Cluster.Http.GetAsync("/v1/devices/dev-never-seen");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("https://outpost.dev/problems/device-not-found", problem.GetProperty("type").GetString());
        Assert.Contains("dev-never-seen", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownRoute_Returns404ProblemJson()
    {
        using var response = await Cluster.Http.GetAsync("/v1/no-such-thing");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("https://outpost.dev/problems/not-found", problem.RootElement.GetProperty("type").GetString());
    }

    [Fact]
    public async Task ListDevices_EdgeSiloProcessKilled_DeviceTurnsOfflineAndOthersStayOnline()
    {
        await using var edge = await Cluster.StartEdgeSiloProcessAsync("dev-pi-killed");
        Assert.Equal("online", (await ListAsync())["dev-pi-killed"].GetProperty("status").GetString());

        await edge.KillAsync();

        var status = await WaitForStatusAsync("dev-pi-killed", "offline");
        Assert.Equal("offline", status);
        Assert.Equal("online", (await ListAsync())["dev-pi-1"].GetProperty("status").GetString());
    }

    [Fact]
    public async Task ListDevices_EdgeSiloStoppedCleanly_DeviceTurnsOffline()
    {
        var silo = await Cluster.StartEdgeSiloAsync("dev-pi-stopped");
        await Cluster.WaitForDeviceAsync("dev-pi-stopped", online: true);

        await Cluster.StopSiloAsync(silo);

        Assert.Equal("offline", await WaitForStatusAsync("dev-pi-stopped", "offline"));
    }

    private async Task<string?> WaitForStatusAsync(string deviceId, string wanted)
    {
        // Membership needs ProbeTimeout x MissedProbesLimit (2 s here) plus a vote; give it ample room.
        string? status = null;
        for (var attempt = 0; attempt < 300 && status != wanted; attempt++)
        {
            status = (await ListAsync())[deviceId].GetProperty("status").GetString();
            if (status != wanted)
            {
                await Task.Delay(200);
            }
        }

        return status;
    }

    private async Task<Dictionary<string, JsonElement>> ListAsync()
    {
        var body = await Cluster.Http.GetFromJsonAsync<JsonElement>("/v1/devices");
        Assert.Equal("list", body.GetProperty("object").GetString());
        return body.GetProperty("data").EnumerateArray().ToDictionary(d => d.GetProperty("id").GetString()!);
    }
}
