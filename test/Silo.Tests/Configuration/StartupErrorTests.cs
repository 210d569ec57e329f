using Outpost.Testing.Cluster;
using Outpost.Testing.PostgreSql;
using Xunit;

namespace Outpost.Silo.Tests.Configuration;

/// <summary>
/// Runs the Silo executable the way an operator would, with a broken configuration, and checks that it stops with
/// one line naming the key instead of a stack trace.
/// </summary>
public sealed class StartupErrorTests(PostgreSqlFixture postgres) : IClassFixture<PostgreSqlFixture>
{
    private const string Project = "Silo";
    private const string ProcessName = "outpost-silo";
    private const string Password = "s3cr3t-do-not-print";

    [Fact]
    public async Task Start_MissingConnectionString_PrintsOneLineNamingKey()
    {
        var result = await RunAsync([], connectionString: "");

        var line = AssertConfigurationError(result);
        Assert.Contains("ConnectionStrings:Outpost", line, StringComparison.Ordinal);
        Assert.Contains("missing", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_UnreachableDatabase_PrintsOneLineWithoutPassword()
    {
        var result = await RunAsync(["--Http:Port=0"], UnreachableConnectionString());

        var line = AssertConfigurationError(result);
        Assert.Contains("ConnectionStrings:Outpost", line, StringComparison.Ordinal);
        Assert.Contains("cannot reach", line, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_MalformedSiloPort_PrintsOneLineNamingKey()
    {
        var result = await RunAsync(["--Cluster:SiloPort=abc"], UnreachableConnectionString());

        var line = AssertConfigurationError(result);
        Assert.Contains("Cluster:SiloPort", line, StringComparison.Ordinal);
        Assert.DoesNotContain("abc", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_HttpPortOutOfRange_PrintsOneLineNamingKey()
    {
        var result = await RunAsync(["--Http:Port=70000"], UnreachableConnectionString());

        var line = AssertConfigurationError(result);
        Assert.Contains("Http:Port", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_FreshDatabase_ReportsSchemaUpToDate()
    {
        var connectionString = await postgres.Server.CreateDatabaseAsync();

        var result = await RunAsync(["migrate"], connectionString);

        Assert.True(result.ExitCode == 0, $"exit code {result.ExitCode}; stderr: {result.StandardError}");
        Assert.Contains("schema up to date", result.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("(0 applied", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_SecondRun_AppliesNothing()
    {
        var connectionString = await postgres.Server.CreateDatabaseAsync();
        var first = await RunAsync(["migrate"], connectionString);
        Assert.True(first.ExitCode == 0, $"first run: exit code {first.ExitCode}; stderr: {first.StandardError}");

        var second = await RunAsync(["migrate"], connectionString);

        Assert.True(second.ExitCode == 0, $"second run: exit code {second.ExitCode}; stderr: {second.StandardError}");
        Assert.Contains("schema up to date (0 applied", second.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(second.StandardOutput.Split('\n'), line => line.StartsWith("applied ", StringComparison.Ordinal));
    }

    // The audit key's master key and the dashboard's token issuer are requirements of their own; the other tests give
    // them so that theirs is the only problem.
    private static readonly Dictionary<string, string?> MasterKey = new()
    {
        ["Security__MasterKeyFile"] = Path.Combine(Path.GetTempPath(), $"outpost-silo-test-{Guid.NewGuid():N}.key"),
        ["Security__CreateMasterKeyFile"] = "true",
        ["Security__Issuer"] = "http://outpost.test",
    };

    [Fact]
    public async Task Start_MissingIssuer_PrintsOneLineNamingKey()
    {
        var result = await StartupErrors.RunAsync(
            Project, [], UnreachableConnectionString(), new Dictionary<string, string?>(MasterKey) { ["Security__Issuer"] = null });

        var line = AssertConfigurationError(result);
        Assert.Contains("Security:Issuer", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_MissingMasterKeyFile_PrintsOneLineNamingKey()
    {
        var result = await StartupErrors.RunAsync(Project, ["--Security:MasterKeyFile=" + Path.Combine(Path.GetTempPath(), "outpost-no-such.key")], UnreachableConnectionString());

        var line = AssertConfigurationError(result);
        Assert.Contains("Security:MasterKeyFile", line, StringComparison.Ordinal);
        Assert.Contains("does not exist", line, StringComparison.Ordinal);
    }

    private static Task<ProcessResult> RunAsync(string[] arguments, string connectionString) =>
        StartupErrors.RunAsync(Project, arguments, connectionString, MasterKey);

    private static string UnreachableConnectionString() => StartupErrors.UnreachableConnectionString(Password);

    private static string AssertConfigurationError(ProcessResult result) => StartupErrors.AssertConfigurationError(result, ProcessName);
}
