using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.Gateway.Tests.Configuration;

/// <summary>
/// Runs the Gateway executable with a broken configuration and checks that it stops with one line naming the key
/// instead of a stack trace.
/// </summary>
public sealed class StartupErrorTests
{
    private const string Project = "Gateway";
    private const string ProcessName = "outpost-gateway";

    [Fact]
    public async Task Start_MissingConnectionString_PrintsOneLineNamingKey()
    {
        var result = await RunAsync([], connectionString: "");

        var line = AssertConfigurationError(result);
        Assert.Contains("ConnectionStrings:Outpost", line, StringComparison.Ordinal);
        Assert.Contains("missing", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_HttpAddressNotAnIp_PrintsOneLineNamingKey()
    {
        var result = await RunAsync(["--Http:Address=gateway.local"], UnreachableConnectionString());

        var line = AssertConfigurationError(result);
        Assert.Contains("Http:Address", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_NoIssuer_PrintsOneLineNamingKey()
    {
        var result = await RunAsync(["--Security:MasterKeyFile=/tmp/outpost-unused.key"], UnreachableConnectionString());

        var line = AssertConfigurationError(result);
        Assert.Contains("Security:Issuer", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_MalformedHttpPort_PrintsOneLineNamingKey()
    {
        var result = await RunAsync(["--Http:Port=eighty"], UnreachableConnectionString());

        var line = AssertConfigurationError(result);
        Assert.Contains("Http:Port", line, StringComparison.Ordinal);
    }

    private static Task<ProcessResult> RunAsync(string[] arguments, string connectionString) =>
        StartupErrors.RunAsync(Project, arguments, connectionString);

    private static string UnreachableConnectionString() => StartupErrors.UnreachableConnectionString();

    private static string AssertConfigurationError(ProcessResult result) => StartupErrors.AssertConfigurationError(result, ProcessName);
}
