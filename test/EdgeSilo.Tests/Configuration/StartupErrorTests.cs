using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.EdgeSilo.Tests.Configuration;

/// <summary>
/// Runs the EdgeSilo executable with a broken configuration and checks that it stops with one line naming the key
/// instead of a stack trace.
/// </summary>
public sealed class StartupErrorTests
{
    private const string Project = "EdgeSilo";
    private const string ProcessName = "outpost-edge";

    [Fact]
    public async Task Start_MissingDeviceId_PrintsOneLineNamingKey()
    {
        var result = await RunAsync([]);

        var line = AssertConfigurationError(result);
        Assert.Contains("Edge:DeviceId", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_InvalidDeviceId_PrintsOneLineNamingKey()
    {
        var result = await RunAsync(["--Edge:DeviceId=Not_Valid!"]);

        var line = AssertConfigurationError(result);
        Assert.Contains("Edge:DeviceId", line, StringComparison.Ordinal);
    }

    private static Task<ProcessResult> RunAsync(string[] arguments) =>
        StartupErrors.RunAsync(Project, arguments, StartupErrors.UnreachableConnectionString());

    private static string AssertConfigurationError(ProcessResult result) => StartupErrors.AssertConfigurationError(result, ProcessName);
}
