using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.ServiceDefaults.Tests.Hosting;

/// <summary>
/// Every executable run the way an operator would, with one thing wrong in its configuration: it stops with exit code
/// 2 and one line on standard error that starts with its name and names the key, never a stack trace and never the
/// database password (<c>OutpostProcess</c>, which all of them run in).
/// </summary>
public sealed class StartupErrorTests
{
    private const string Password = "s3cr3t-do-not-print";

    /// <summary>How a case's connection string is made.</summary>
    public enum Database
    {
        /// <summary>None at all.</summary>
        Missing,

        /// <summary>Well formed, to a port nothing listens on: the setting under test is the only problem.</summary>
        Unreachable,
    }

    public static TheoryData<string, string[], Database, string, string?> Cases => new()
    {
        // project, arguments, database, the key the line names, a word it must hold
        { "Gateway", [], Database.Missing, "ConnectionStrings:Outpost", "missing" },
        { "Gateway", ["--Http:Address=gateway.local"], Database.Unreachable, "Http:Address", null },
        { "Gateway", ["--Http:Port=eighty"], Database.Unreachable, "Http:Port", null },
        { "Gateway", ["--Security:Issuer="], Database.Unreachable, "Security:Issuer", "missing" },
        { "Gateway", ["tenant", "create", "acme"], Database.Unreachable, "dotnet run --project src/Admin -- tenant create acme", "not an option" },
        { "Silo", [], Database.Missing, "ConnectionStrings:Outpost", "missing" },
        { "Silo", ["--Http:Port=0"], Database.Unreachable, "ConnectionStrings:Outpost", "cannot reach" },
        { "Silo", ["--Cluster:SiloPort=abc"], Database.Unreachable, "Cluster:SiloPort", null },
        { "Silo", ["--Http:Port=70000"], Database.Unreachable, "Http:Port", null },
        { "Silo", ["--Security:Issuer="], Database.Unreachable, "Security:Issuer", "missing" },
        { "Silo", ["--Security:MasterKeyFile=/nonexistent/outpost-no-such.key", "--Security:CreateMasterKeyFile=false"], Database.Unreachable, "Security:MasterKeyFile", "does not exist" },
        { "EdgeSilo", [], Database.Unreachable, "Edge:DeviceId", null },
        { "EdgeSilo", ["--Edge:DeviceId=Not_Valid!"], Database.Unreachable, "Edge:DeviceId", null },
        { "EdgeSilo", ["--Edge:DeviceId=dev-pi-1"], Database.Missing, "ConnectionStrings:Outpost", "missing" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Start_BadConfiguration_OneLineNamingTheKey(string project, string[] arguments, Database database, string key, string? word)
    {
        // The master key and the issuer are requirements of their own: given here, so that the case's is the only problem.
        var masterKey = Path.Combine(Path.GetTempPath(), $"outpost-startup-{Guid.NewGuid():N}.key");
        var environment = new Dictionary<string, string?>
        {
            ["Security__MasterKeyFile"] = masterKey,
            ["Security__CreateMasterKeyFile"] = "true",
            ["Security__Issuer"] = "http://outpost.test",
        };
        var connectionString = database == Database.Missing ? "" : StartupErrors.UnreachableConnectionString(Password);

        try
        {
            var result = await StartupErrors.RunAsync(project, arguments, connectionString, environment);

            var line = StartupErrors.AssertConfigurationError(result, ProcessName(project));
            Assert.Contains(key, line, StringComparison.Ordinal);
            if (word is not null)
            {
                Assert.Contains(word, line, StringComparison.Ordinal);
            }

            Assert.DoesNotContain(Password, result.StandardError + result.StandardOutput, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(masterKey);
        }
    }

    private static string ProcessName(string project) => project switch
    {
        "Gateway" => "outpost-gateway",
        "Silo" => "outpost-silo",
        "EdgeSilo" => "outpost-edge",
        _ => throw new ArgumentOutOfRangeException(nameof(project), project, null),
    };
}
