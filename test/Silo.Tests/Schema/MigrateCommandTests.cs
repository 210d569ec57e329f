using Outpost.Testing.Cluster;
using Outpost.Testing.PostgreSql;
using Xunit;

namespace Outpost.Silo.Tests.Schema;

/// <summary><c>Outpost.Silo migrate</c>, run as an operator runs it before an upgrade: it applies the schema and says so.</summary>
public sealed class MigrateCommandTests(PostgreSqlFixture postgres) : IClassFixture<PostgreSqlFixture>
{
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

    private static Task<ProcessResult> RunAsync(string[] arguments, string connectionString) =>
        StartupErrors.RunAsync("Silo", arguments, connectionString);
}
