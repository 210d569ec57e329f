using Outpost.ServiceDefaults.Hosting;
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

    // Generous: the executable starts cold on a busy 2-core machine. This only stops a hung process, it asserts nothing.
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

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
        OutpostProcessRunner.RunAsync(
            Project,
            arguments,
            new Dictionary<string, string?> { ["ConnectionStrings__Outpost"] = connectionString },
            Timeout);

    // A well-formed connection string, so that the setting under test is the only problem; nothing listens on the port.
    private static string UnreachableConnectionString() =>
        $"Host=127.0.0.1;Port={FreePorts.Next()};Username=x;Password=y;Database=z;Timeout=3";

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
