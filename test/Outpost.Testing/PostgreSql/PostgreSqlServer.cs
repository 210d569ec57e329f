using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Outpost.Testing.PostgreSql;

/// <summary>
/// A throwaway PostgreSQL server started from the machine's binaries in a temporary directory.
/// Durability is switched off: it exists for the length of a test run.
/// </summary>
public sealed class PostgreSqlServer : IAsyncDisposable
{
    private const string DirectoryPrefix = "outpost-pg-";
    private const string OwnerFileName = "owner.pid";
    private const int StartAttempts = 5;

    private readonly string _binDirectory;
    private readonly string _rootDirectory;
    private readonly bool _runAsPostgres;
    private int _disposed;

    private PostgreSqlServer(string binDirectory, string rootDirectory, bool runAsPostgres, int port)
    {
        _binDirectory = binDirectory;
        _rootDirectory = rootDirectory;
        _runAsPostgres = runAsPostgres;
        Port = port;
        AdminConnectionString = BuildConnectionString(port, "postgres");
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    public int Port { get; }

    public string AdminConnectionString { get; }

    private string DataDirectory => Path.Combine(_rootDirectory, "data");

    private string SocketDirectory => Path.Combine(_rootDirectory, "sock");

    private string LogFile => Path.Combine(_rootDirectory, "server.log");

    public static async Task<PostgreSqlServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var binDirectory = FindBinDirectory();
        var runAsPostgres = IsRoot();
        await SweepOrphansAsync(binDirectory, runAsPostgres, cancellationToken);

        var root = Path.Combine(Path.GetTempPath(), DirectoryPrefix + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        await File.WriteAllTextAsync(
            Path.Combine(root, OwnerFileName),
            Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
            cancellationToken);
        Directory.CreateDirectory(Path.Combine(root, "data"));
        Directory.CreateDirectory(Path.Combine(root, "sock"));

        try
        {
            if (runAsPostgres)
            {
                await RunAsync("chown", ["-R", "postgres:postgres", root], cancellationToken);
            }

            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(Path.Combine(root, "data"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            await RunToolAsync(binDirectory, runAsPostgres, "initdb",
                ["-D", Path.Combine(root, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"],
                cancellationToken);

            // The port is picked before the server binds it, so another process may take it first: retry on a new one.
            Exception? lastError = null;
            for (var attempt = 0; attempt < StartAttempts; attempt++)
            {
                var port = GetFreePort();
                var server = new PostgreSqlServer(binDirectory, root, runAsPostgres, port);
                try
                {
                    await server.StartServerAsync(cancellationToken);
                    return server;
                }
                catch (InvalidOperationException ex)
                {
                    AppDomain.CurrentDomain.ProcessExit -= server.OnProcessExit;
                    lastError = ex;
                }
            }

            throw new InvalidOperationException($"PostgreSQL did not start after {StartAttempts} attempts.", lastError);
        }
        catch
        {
            TryDeleteDirectory(root);
            throw;
        }
    }

    public async Task<string> CreateDatabaseAsync(string? name = null, CancellationToken cancellationToken = default)
    {
        name ??= "test_" + Guid.NewGuid().ToString("N");
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"CREATE DATABASE \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
        await command.ExecuteNonQueryAsync(cancellationToken);
        return BuildConnectionString(Port, name);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        NpgsqlConnection.ClearAllPools();
        try
        {
            await RunToolAsync(_binDirectory, _runAsPostgres, "pg_ctl",
                ["-D", DataDirectory, "-m", "immediate", "-w", "stop"], CancellationToken.None);
        }
        finally
        {
            TryDeleteDirectory(_rootDirectory);
        }
    }

    private async Task StartServerAsync(CancellationToken cancellationToken)
    {
        var options = string.Join(' ',
            "-c listen_addresses=127.0.0.1",
            $"-p {Port.ToString(CultureInfo.InvariantCulture)}",
            $"-k {SocketDirectory}",
            "-c fsync=off",
            "-c synchronous_commit=off",
            "-c full_page_writes=off",
            "-c max_connections=1000");
        await RunToolAsync(_binDirectory, _runAsPostgres, "pg_ctl",
            ["-D", DataDirectory, "-l", LogFile, "-w", "-t", "60", "-o", options, "start"], cancellationToken);
    }

    private void OnProcessExit(object? sender, EventArgs e)
    {
        // A test host that exits without disposing its fixtures must not leave a server behind.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            RunToolAsync(_binDirectory, _runAsPostgres, "pg_ctl",
                ["-D", DataDirectory, "-m", "immediate", "stop"], CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (InvalidOperationException)
        {
        }

        TryDeleteDirectory(_rootDirectory);
    }

    // A run that was killed outright (no ProcessExit) leaves its directory behind with a dead owner: stop and remove those.
    private static async Task SweepOrphansAsync(string binDirectory, bool runAsPostgres, CancellationToken cancellationToken)
    {
        foreach (var directory in Directory.EnumerateDirectories(Path.GetTempPath(), DirectoryPrefix + "*"))
        {
            var ownerFile = Path.Combine(directory, OwnerFileName);
            if (!File.Exists(ownerFile)
                || !int.TryParse(await File.ReadAllTextAsync(ownerFile, cancellationToken), CultureInfo.InvariantCulture, out var owner)
                || Directory.Exists($"/proc/{owner.ToString(CultureInfo.InvariantCulture)}"))
            {
                continue;
            }

            if (File.Exists(Path.Combine(directory, "data", "postmaster.pid")))
            {
                try
                {
                    await RunToolAsync(binDirectory, runAsPostgres, "pg_ctl",
                        ["-D", Path.Combine(directory, "data"), "-m", "immediate", "stop"], cancellationToken);
                }
                catch (InvalidOperationException)
                {
                }
            }

            TryDeleteDirectory(directory);
        }
    }

    private static string BuildConnectionString(int port, string database) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = IPAddress.Loopback.ToString(),
            Port = port,
            Database = database,
            Username = "postgres",
            Pooling = true,
            MaxPoolSize = 20,
            Timeout = 15,
        }.ConnectionString;

    private static string FindBinDirectory()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var initdb = Path.Combine(directory, "initdb");
            if (File.Exists(initdb) && File.Exists(Path.Combine(directory, "pg_ctl")))
            {
                // Debian links the tools into PATH; the server binary lives next to the real files.
                var target = new FileInfo(initdb).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? initdb;
                return Path.GetDirectoryName(target)!;
            }
        }

        const string DebianRoot = "/usr/lib/postgresql";
        if (Directory.Exists(DebianRoot))
        {
            var best = Directory.EnumerateDirectories(DebianRoot)
                .Select(d => (Directory: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), CultureInfo.InvariantCulture, out var v) ? v : -1))
                .Where(c => File.Exists(Path.Combine(c.Directory, "initdb")) && File.Exists(Path.Combine(c.Directory, "pg_ctl")))
                .OrderByDescending(c => c.Version)
                .FirstOrDefault();
            if (best.Directory is not null)
            {
                return best.Directory;
            }
        }

        throw new InvalidOperationException(
            "PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or under /usr/lib/postgresql/*/bin; "
            + "install postgresql-15: apt-get install -y postgresql");
    }

    private static bool IsRoot() =>
        string.Equals(Environment.UserName, "root", StringComparison.Ordinal) || GetEffectiveUserId() == 0;

    private static int GetEffectiveUserId()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("id", "-u") { RedirectStandardOutput = true, UseShellExecute = false });
            if (process is null)
            {
                return -1;
            }

            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return int.TryParse(output.Trim(), CultureInfo.InvariantCulture, out var uid) ? uid : -1;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return -1;
        }
    }

    private static int GetFreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static Task RunToolAsync(string binDirectory, bool runAsPostgres, string tool, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var executable = Path.Combine(binDirectory, tool);
        return runAsPostgres
            ? RunAsync("runuser", ["-u", "postgres", "--", executable, .. arguments], cancellationToken)
            : RunAsync(executable, arguments, cancellationToken);
    }

    private static async Task RunAsync(string fileName, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo)
            ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{Path.GetFileName(fileName)} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await stderr}{await stdout}");
        }
    }

    private static void TryDeleteDirectory(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
