using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Outpost.Grains.EdgeDevices;
using Outpost.ServiceDefaults.ClusterTls;
using Outpost.ServiceDefaults.Configuration;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.ServiceDefaults.Tests.ClusterTls;

/// <summary>Who can join the cluster: only a node holding a certificate the cluster CA issued for its role.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterTlsTests(OutpostClusterFixture fixture)
{
    // Long enough for a healthy silo to join several times over on this machine; only a deadline, not a measurement.
    private static readonly TimeSpan JoinDeadline = TimeSpan.FromSeconds(45);

    private OutpostCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task EdgeSilo_WithoutCertificate_CannotJoin()
    {
        var (joined, output) = await TryJoinAsync("dev-plain", new() { ["Cluster:Tls:Disabled"] = "true" });

        Assert.False(joined);
        // It did start, in plain TCP, and tried: the refusal is the cluster's, not a start-up error.
        Assert.Contains("plain TCP", output, StringComparison.Ordinal);
        await AssertNotInDirectoryAsync("dev-plain");
    }

    [Fact]
    public async Task EdgeSilo_WithCertificateFromAnotherCa_CannotJoin()
    {
        using var foreignCa = ClusterCertificates.CreateAuthority("somebody else", TimeSpan.FromDays(1));
        using var foreign = ClusterCertificates.Issue(foreignCa, NodeIdentity.EdgeDevice("dev-foreign"), TimeSpan.FromDays(1));
        var certificateFile = Path.Combine(Cluster.TlsDirectory, "foreign.crt");
        var keyFile = Path.Combine(Cluster.TlsDirectory, "foreign.key");
        ClusterCertificates.Write(foreign, certificateFile, keyFile);
        var caFile = Path.Combine(Cluster.TlsDirectory, "foreign-ca.crt");
        ClusterCertificates.Write(foreignCa, caFile, keyFile: null);

        var (joined, output) = await TryJoinAsync("dev-foreign", new()
        {
            ["Cluster:Tls:CaFile"] = caFile,
            ["Cluster:Tls:CertificateFile"] = certificateFile,
            ["Cluster:Tls:KeyFile"] = keyFile,
        });

        Assert.False(joined);
        Assert.DoesNotContain("outpost-edge: ", output, StringComparison.Ordinal); // no configuration error: the cluster refused it
        await AssertNotInDirectoryAsync("dev-foreign");
    }

    [Fact]
    public async Task EdgeSilo_WithAnotherDevicesCertificate_RefusesToStart()
    {
        var other = Cluster.TlsSettings(NodeIdentity.EdgeDevice("dev-pi-2"));

        var error = await Assert.ThrowsAsync<StartupConfigurationException>(() => Cluster.StartEdgeSiloAsync("dev-pi-7", other));

        Assert.Contains("Cluster:Tls:CertificateFile", error.Message, StringComparison.Ordinal);
        Assert.Contains("edge dev-pi-2", error.Message, StringComparison.Ordinal);
        Assert.Contains("edge dev-pi-7", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClusterClient_PresentingAnEdgeCertificate_IsRefusedAtTheGatewayPort_WhileTheGatewayCertificateConnects()
    {
        // Plain Orleans with TLS configured by hand, so nothing on this side checks its own certificate's role.
        Assert.False(await TryConnectClientAsync(NodeIdentity.EdgeDevice("dev-pi-1")));

        // The client makes one connection attempt (no retry filter); on a loaded machine one attempt can fail for reasons
        // of its own, so the accepted certificate gets three. The refused one above gets one: it must never connect.
        var connected = false;
        for (var attempt = 0; attempt < 3 && !connected; attempt++)
        {
            connected = await TryConnectClientAsync(NodeIdentity.GatewayClient);
        }

        Assert.True(connected);
    }

    /// <summary>Runs an edge silo process with <paramref name="overrides"/>; whether its device came online, and what it printed.</summary>
    private async Task<(bool Joined, string Output)> TryJoinAsync(string deviceId, Dictionary<string, string?> overrides)
    {
        await using var process = Cluster.StartEdgeSiloProcess(deviceId, overrides);
        var deadline = DateTime.UtcNow + JoinDeadline;
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            // The cluster declares a silo it cannot reach dead, and Orleans then ends that silo's process.
            var devices = await Cluster.Client.GetGrain<IDeviceDirectoryGrain>(IDeviceDirectoryGrain.Key).ListAsync();
            if (devices.Any(d => d.Record.Registration.DeviceId == deviceId && d.Online))
            {
                return (true, process.Output);
            }

            await Task.Delay(250);
        }

        return (false, process.Output);
    }

    private async Task AssertNotInDirectoryAsync(string deviceId)
    {
        var devices = await Cluster.Client.GetGrain<IDeviceDirectoryGrain>(IDeviceDirectoryGrain.Key).ListAsync();
        Assert.DoesNotContain(devices, d => d.Record.Registration.DeviceId == deviceId);
    }

    private async Task<bool> TryConnectClientAsync(NodeIdentity presented)
    {
        var tls = Cluster.TlsSettings(presented);
        var certificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(
            tls["Cluster:Tls:CertificateFile"]!, tls["Cluster:Tls:KeyFile"]);
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o => o.ClusterId = o.ServiceId = Cluster.ClusterId);
            client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(1));
            client.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = Cluster.ServiceConnectionString;
            });
            client.UseTls(certificate, o => o.AllowAnyRemoteCertificate());
            client.UseConnectionRetryFilter((_, _) => Task.FromResult(false));
        });
        using var host = builder.Build();
        try
        {
            using var deadline = new CancellationTokenSource(JoinDeadline);
            await host.StartAsync(deadline.Token);
            await host.Services.GetRequiredService<IClusterClient>().GetGrain<IDeviceDirectoryGrain>(IDeviceDirectoryGrain.Key).ListAsync()
                .WaitAsync(TimeSpan.FromSeconds(20));
            return true;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return false;
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }
}
