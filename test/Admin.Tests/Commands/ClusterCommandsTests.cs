using System.Security.Cryptography.X509Certificates;
using Outpost.ServiceDefaults.ClusterTls;
using Xunit;

namespace Outpost.Admin.Tests.Commands;

/// <summary><c>outpost cluster ...</c>: the CA and node certificates, made without a database.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ClusterCommandsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("outpost-cli-tls-").FullName;

    [Fact]
    public async Task CaCreate_ThenIssue_WritesCertificatesThatCarryTheRoleAndChainToTheCa()
    {
        var ca = await RunAsync("cluster", "ca", "create", "--dir", _dir);
        var edge = await RunAsync("cluster", "cert", "issue", "edge", "--device", "dev-pi-4", "--dir", _dir);
        var gateway = await RunAsync("cluster", "cert", "issue", "gateway", "--dir", _dir);

        Assert.Equal((0, 0, 0), (ca.ExitCode, edge.ExitCode, gateway.ExitCode));
        using var authority = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(_dir, "ca.crt"));
        using var issued = X509Certificate2.CreateFromPemFile(Path.Combine(_dir, "edge-dev-pi-4.crt"), Path.Combine(_dir, "edge-dev-pi-4.key"));
        Assert.Equal(NodeIdentity.EdgeDevice("dev-pi-4"), NodeIdentity.Of(issued));
        Assert.True(issued.HasPrivateKey);
        Assert.Null(ClusterCertificates.Check(issued, authority, [NodeIdentity.Edge]));
        Assert.NotNull(ClusterCertificates.Check(issued, authority, [NodeIdentity.Gateway]));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir, "edge-dev-pi-4.key")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir, "ca.key")));
    }

    [Fact]
    public async Task BadInputs_ExitOneNamingTheProblem_AndReplaceNothing()
    {
        await RunAsync("cluster", "ca", "create", "--dir", _dir);
        var caBefore = await File.ReadAllTextAsync(Path.Combine(_dir, "ca.crt"));
        await RunAsync("cluster", "cert", "issue", "control", "--dir", _dir);
        var controlBefore = await File.ReadAllTextAsync(Path.Combine(_dir, "control.crt"));

        var secondCa = await RunAsync("cluster", "ca", "create", "--dir", _dir);
        var noDevice = await RunAsync("cluster", "cert", "issue", "edge", "--dir", _dir);
        var badRole = await RunAsync("cluster", "cert", "issue", "root", "--dir", _dir);
        var reissue = await RunAsync("cluster", "cert", "issue", "control", "--dir", _dir);
        var noCa = await RunAsync("cluster", "cert", "issue", "gateway", "--dir", Path.Combine(_dir, "empty"));

        Assert.Equal((1, 1, 1, 1, 1), (secondCa.ExitCode, noDevice.ExitCode, badRole.ExitCode, reissue.ExitCode, noCa.ExitCode));
        Assert.Contains("a cluster has one CA", secondCa.Error, StringComparison.Ordinal);
        Assert.Contains("--device", noDevice.Error, StringComparison.Ordinal);
        Assert.Contains("'root' is not a node role", badRole.Error, StringComparison.Ordinal);
        Assert.Contains("--force", reissue.Error, StringComparison.Ordinal);
        Assert.Contains("no usable cluster CA", noCa.Error, StringComparison.Ordinal);
        Assert.Equal(caBefore, await File.ReadAllTextAsync(Path.Combine(_dir, "ca.crt")));
        Assert.Equal(controlBefore, await File.ReadAllTextAsync(Path.Combine(_dir, "control.crt")));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = await AdminCli.RunAsync(args, new StringReader(""), output, error);
        return (exitCode, output.ToString(), error.ToString());
    }
}
