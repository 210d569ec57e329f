using System.CommandLine;
using System.Text;
using Outpost.Identity.Tenants;

namespace Outpost.Admin.Commands;

/// <summary>
/// <c>admin create &lt;tenant&gt; &lt;username&gt; [--password-file F]</c>: the password never goes on the command line;
/// <c>admin unlock &lt;tenant&gt; &lt;username&gt;</c> clears a sign-in lockout.
/// </summary>
internal static class AdminUserCommands
{
    public const string Name = "admin";

    public static Command Create(CliContext context)
    {
        var tenant = new Argument<string>("tenant") { Description = "The tenant the admin manages." };
        var username = new Argument<string>("username") { Description = "The admin's username." };
        var passwordFile = new Option<FileInfo?>("--password-file")
        {
            Description = "A file whose first line is the password. Without it, the first line of standard input.",
        };
        var create = new Command("create", "Creates a tenant admin, who can approve device sign-ins for the tenant.")
        {
            tenant, username, passwordFile,
        };
        create.SetAction(async (parse, cancellationToken) =>
        {
            var password = await ReadPasswordAsync(context, parse.GetValue(passwordFile), cancellationToken);
            var admins = await context.GetAsync<TenantAdminStore>(cancellationToken);
            await admins.CreateAsync(parse.GetRequiredValue(tenant), parse.GetRequiredValue(username), password, cancellationToken);
            await context.Output.WriteLineAsync($"created admin {parse.GetRequiredValue(username)} of tenant {parse.GetRequiredValue(tenant)}");
            return 0;
        });

        var unlock = new Command("unlock", "Clears an admin's failed sign-ins and lockout.") { tenant, username };
        unlock.SetAction(async (parse, cancellationToken) =>
        {
            var throttle = await context.GetAsync<Outpost.Identity.Logins.LoginThrottle>(cancellationToken);
            var cleared = await throttle.ClearAsync(parse.GetRequiredValue(tenant), parse.GetRequiredValue(username), cancellationToken);
            await context.Output.WriteLineAsync(cleared
                ? $"cleared the failed sign-ins of {parse.GetRequiredValue(username)} of tenant {parse.GetRequiredValue(tenant)}"
                : $"{parse.GetRequiredValue(username)} of tenant {parse.GetRequiredValue(tenant)} had no failed sign-ins");
            return 0;
        });

        return new Command(Name, "Manages tenant admins.") { create, unlock };
    }

    private static async Task<string> ReadPasswordAsync(CliContext context, FileInfo? file, CancellationToken cancellationToken)
    {
        string? line;
        if (file is not null)
        {
            if (!file.Exists)
            {
                throw new CliUsageException($"--password-file: '{file.FullName}' does not exist.");
            }

            using var reader = file.OpenText();
            line = await reader.ReadLineAsync(cancellationToken);
        }
        else if (ReferenceEquals(context.Input, Console.In) && !Console.IsInputRedirected)
        {
            line = ReadHidden(context);
        }
        else
        {
            line = await context.Input.ReadLineAsync(cancellationToken);
        }

        return string.IsNullOrEmpty(line)
            ? throw new CliUsageException("no password given: pipe it on standard input or use --password-file.")
            : line;
    }

    // Typed at a terminal: prompt on stderr and do not echo.
    private static string ReadHidden(CliContext context)
    {
        context.Error.Write("Password: ");
        var password = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                break;
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (password.Length > 0)
                {
                    password.Length--;
                }

                continue;
            }

            password.Append(key.KeyChar);
        }

        context.Error.WriteLine();
        return password.ToString();
    }
}
