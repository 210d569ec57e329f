using System.CommandLine;
using System.Text.RegularExpressions;
using Npgsql;
using Outpost.Admin.Commands;
using Outpost.Identity;
using Outpost.ServiceDefaults.Database;
using Outpost.ServiceDefaults.Hosting;

namespace Outpost.Admin;

/// <summary>
/// <c>outpost &lt;command&gt;</c> (<c>dotnet run --project src/Admin -- &lt;command&gt;</c>): tenants, tenant admins, clients, tokens, signing keys and
/// device assignments, straight against PostgreSQL (no cluster needed). Configuration comes from the same sources as the gateway's (appsettings.json, the environment);
/// <c>--Section:Key=value</c> arguments anywhere on the line are configuration, everything else is the command.
/// Exit codes: 0 done, 1 usage (bad arguments or values), 2 configuration or database problem, 3 an audit log that does not verify.
/// </summary>
public static partial class AdminCli
{
    public const string ProcessName = "outpost";
    public const int UsageErrorExitCode = 1;

    public static Task<int> RunAsync(string[] args) => RunAsync(args, Console.In, Console.Out, Console.Error);

    /// <summary>Runs one command with the given console streams (tests pass their own).</summary>
    public static async Task<int> RunAsync(string[] args, TextReader input, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(error);
        var configurationArgs = args.Where(IsConfigurationArgument).ToArray();
        var commandArgs = args.Where(a => !IsConfigurationArgument(a)).ToArray();

        await using var context = new CliContext(configurationArgs, input, output, error);
        var root = new RootCommand("Administers Outpost's tenants, clients, tokens, signing keys and devices.")
        {
            TenantCommands.Create(context),
            AdminUserCommands.Create(context),
            ClientCommands.Create(context),
            TokenCommands.Create(context),
            KeyCommands.Create(context),
            DeviceCommands.Create(context),
            AuditCommands.Create(context),
            TaskCommands.Create(context),
            ClusterCommands.Create(context),
        };

        try
        {
            return await root.Parse(commandArgs).InvokeAsync(
                new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false },
                cancellationToken);
        }
        catch (Exception ex) when (ex is CliUsageException or IdentityStoreException)
        {
            await error.WriteLineAsync($"{ProcessName}: {ex.Message}");
            return UsageErrorExitCode;
        }
        catch (NpgsqlException ex) when (context.DataSource is { } dataSource)
        {
            await error.WriteLineAsync($"{ProcessName}: {OutpostDatabase.Unreachable(dataSource, ex).Message}");
            return OutpostProcess.ConfigurationErrorExitCode;
        }
        catch (Exception ex) when (OutpostProcess.Describe(ex) is { } problem)
        {
            await error.WriteLineAsync($"{ProcessName}: {problem}");
            return OutpostProcess.ConfigurationErrorExitCode;
        }
    }

    /// <summary><c>--Section:Key=value</c>: configuration for the host's configuration system, not a command option.</summary>
    private static bool IsConfigurationArgument(string arg) => ConfigurationArgument().IsMatch(arg);

    [GeneratedRegex("^--[A-Za-z][A-Za-z0-9_]*(:[A-Za-z0-9_]+)+=")]
    private static partial Regex ConfigurationArgument();
}
