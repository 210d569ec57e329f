using Outpost.ServiceDefaults.Hosting;
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

    // Generous: the executable starts cold on a busy 2-core machine. This only stops a hung process, it asserts nothing.
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

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

    // A well-formed connection string, so that the device id is the only problem; nothing listens on the port.
    private static Task<ProcessResult> RunAsync(string[] arguments) =>
        OutpostProcessRunner.RunAsync(
            Project,
            arguments,
            new Dictionary<string, string?>
            {
                ["ConnectionStrings__Outpost"] = $"Host=127.0.0.1;Port={FreePorts.Next()};Username=x;Password=y;Database=z;Timeout=3",
            },
            Timeout);

    /// <summary>Asserts exit code 2, exactly one non-empty line on stderr and no stack trace anywhere; returns the line.</summary>
    private static string AssertConfigurationError(ProcessResult result)
    {
        var context = $"exit code {result.ExitCode}\nstderr:\n{result.StandardError}\nstdout:\n{result.StandardOutput}";
        Assert.True(result.ExitCode == OutpostProcess.ConfigurationErrorExitCode, context);
        var error = result.StandardError.TrimEnd('\r', '\n');
        Assert.False(string.IsNullOrWhiteSpace(error), context);
        Assert.False(error.Contains('\n', StringComparison.Ordinal), "stderr is more than one line. " + context);
        Assert.StartsWith($"{ProcessName}: ", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.StandardOutput, StringComparison.Ordinal);
        return error;
    }
}
