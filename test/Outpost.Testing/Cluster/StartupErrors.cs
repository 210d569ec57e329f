using Outpost.ServiceDefaults.Hosting;
using Xunit;

namespace Outpost.Testing.Cluster;

/// <summary>Runs an Outpost executable with a broken configuration and checks the one-line error it must print.</summary>
public static class StartupErrors
{
    // Generous: the executable starts cold on a busy 2-core machine. This only stops a hung process, it asserts nothing.
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    public static Task<ProcessResult> RunAsync(
        string project, string[] arguments, string connectionString, IReadOnlyDictionary<string, string?>? environment = null)
    {
        // Cluster TLS is off unless a test sets it up: each test here is about one other broken setting.
        var variables = new Dictionary<string, string?> { ["ConnectionStrings__Outpost"] = connectionString, ["Cluster__Tls__Disabled"] = "true" };
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            variables[name] = value;
        }

        return OutpostProcessRunner.RunAsync(project, arguments, variables, Timeout);
    }

    /// <summary>
    /// A well-formed connection string to a port nothing listens on (FreePorts never hands one out twice), so that the
    /// setting under test is the only problem and the connection is refused at once.
    /// </summary>
    public static string UnreachableConnectionString(string password = "y") =>
        $"Host=127.0.0.1;Port={FreePorts.Next()};Username=x;Password={password};Database=z;Timeout=3";

    /// <summary>Asserts exit code 2, exactly one non-empty line on stderr and no stack trace anywhere; returns the line.</summary>
    public static string AssertConfigurationError(ProcessResult result, string processName)
    {
        ArgumentNullException.ThrowIfNull(result);
        var context = $"exit code {result.ExitCode}\nstderr:\n{result.StandardError}\nstdout:\n{result.StandardOutput}";
        Assert.True(result.ExitCode == OutpostProcess.ConfigurationErrorExitCode, context);
        var error = result.StandardError.TrimEnd('\r', '\n');
        Assert.False(string.IsNullOrWhiteSpace(error), context);
        Assert.False(error.Contains('\n', StringComparison.Ordinal), "stderr is more than one line. " + context);
        Assert.StartsWith($"{processName}: ", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.StandardOutput, StringComparison.Ordinal);
        return error;
    }
}
