using System.Diagnostics;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.Scripts.Tests;

/// <summary>
/// <c>scripts/lib.sh</c>, which <c>run.sh</c> and <c>test.sh</c> share, run by bash as the scripts run it: a checkout
/// under a directory the postgres user cannot enter (root's home, mode 0700) still gets a running database.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class LibTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("outpost-lib-").FullName;

    // Like /var/lib, the test's own root is open to other users; only the "home" below it is private.
    public LibTests() => File.SetUnixFileMode(_root, (UnixFileMode)0b111_101_101);

    [Fact]
    public async Task PgLocation_DataDirectoryPostgresCannotEnter_ServerRunsFromADirectoryItCan()
    {
        // A private home with a checkout's data directory in it, and a root for the relocated files of this test only.
        var home = Path.Combine(_root, "home");
        var dataDir = Path.Combine(home, "checkout", ".data");
        Directory.CreateDirectory(dataDir);
        File.SetUnixFileMode(home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var relocated = Path.Combine(_root, "var-lib-outpost");
        var port = FreePorts.Next();

        var result = await BashAsync(
            """
            set -euo pipefail
            source "$REPO/scripts/lib.sh"
            ensure_postgres_binaries >/dev/null
            dir=$(pg_location "$DATA")
            echo "location=$dir"
            (pg_init "$DATA/../pg-unused-check" "$DATA/pw") >/dev/null 2>&1 && echo "inside=usable" || echo "inside=refused"
            pg_init "$dir" "$DATA/pg-password" >/dev/null
            mkdir -p "$(dirname "$dir")/logs"; as_root && chown postgres:postgres "$(dirname "$dir")/logs"
            pg_start "$dir" "$PORT" "$(dirname "$dir")/logs/postgresql.log"
            PGPASSWORD=$(cat "$DATA/pg-password") psql -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc 'SELECT 41 + 1'
            pg_stop "$dir"
            """,
            ("REPO", OutpostBinaries.RepositoryRoot), ("DATA", dataDir), ("PORT", port.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("OUTPOST_PG_ROOT", relocated));

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("42", result.Output.Split('\n').Select(l => l.Trim()));
        var location = result.Output.Split('\n').Single(l => l.StartsWith("location=", StringComparison.Ordinal))["location=".Length..].Trim();
        if (Environment.UserName == "root")
        {
            // The postgres user cannot enter the home directory, so the files live under the relocation root, and the
            // data directory records where.
            Assert.Contains("inside=refused", result.Output, StringComparison.Ordinal);
            Assert.StartsWith(relocated + "/pg-.data-", location, StringComparison.Ordinal);
            Assert.Equal(Path.GetDirectoryName(location), File.ReadAllText(Path.Combine(dataDir, "pg-location")).Trim());
        }
        else
        {
            Assert.Equal(Path.Combine(dataDir, "pg"), location);
        }
    }

    [Fact]
    public async Task PgLocation_SameDataDirectory_SameLocationEveryTime()
    {
        var home = Path.Combine(_root, "home2");
        var dataDir = Path.Combine(home, ".data");
        Directory.CreateDirectory(dataDir);
        File.SetUnixFileMode(home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var script = """source "$REPO/scripts/lib.sh"; pg_location "$DATA"; pg_location "$DATA" """;

        var result = await BashAsync(script, ("REPO", OutpostBinaries.RepositoryRoot), ("DATA", dataDir), ("OUTPOST_PG_ROOT", Path.Combine(_root, "relocated")));

        Assert.True(result.ExitCode == 0, result.Output);
        var lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(2, lines.Length);
        Assert.Equal(lines[0], lines[1]);
    }

    public void Dispose()
    {
        // The relocated cluster belongs to postgres; as root we may remove it all.
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static async Task<(int ExitCode, string Output)> BashAsync(string script, params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo("bash", ["-c", script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await error);
    }
}
