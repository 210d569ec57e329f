using System.Diagnostics;

namespace Outpost.Testing.Cluster;

/// <summary>Runs an Outpost executable as a real process, the way an operator would.</summary>
public static class OutpostProcessRunner
{
    /// <summary>Starts <c>dotnet Outpost.{project}.dll</c> with the given arguments and environment.</summary>
    public static Process Start(string project, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(OutpostBinaries.PathOf(project))!,
        };
        info.ArgumentList.Add(OutpostBinaries.PathOf(project));
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // The test runner's own settings must not leak into the process under test.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("ConnectionStrings__", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }

        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            info.Environment[key] = value;
        }

        return Process.Start(info) ?? throw new InvalidOperationException($"Could not start {project}.");
    }

    /// <summary>Runs the process to completion (killing it after <paramref name="timeout"/>) and returns its output.</summary>
    public static async Task<ProcessResult> RunAsync(
        string project, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null)
    {
        using var process = Start(project, arguments, environment);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{project} did not exit within {timeout ?? TimeSpan.FromSeconds(60)}; output: {await stdout} {await stderr}");
        }

        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }
}
