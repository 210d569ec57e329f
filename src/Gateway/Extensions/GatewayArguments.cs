namespace Outpost.Gateway.Extensions;

/// <summary>The gateway takes configuration arguments only; the admin commands are the <c>outpost</c> program's.</summary>
public static class GatewayArguments
{
    /// <summary>
    /// The message for a stray positional argument (an admin command typed at the gateway, say), or null when every
    /// argument is an option or an option's value.
    /// </summary>
    public static string? Problem(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg.StartsWith('-'))
            {
                // "--Key value": the next argument is this option's value.
                if (!arg.Contains('=', StringComparison.Ordinal) && i + 1 < args.Count && !args[i + 1].StartsWith('-'))
                {
                    i++;
                }

                continue;
            }

            return $"'{arg}' is not an option of the gateway, which takes configuration only (--Section:Key=value); "
                + $"the admin commands are the outpost program's: dotnet run --project src/Admin -- {string.Join(' ', args)}";
        }

        return null;
    }
}
