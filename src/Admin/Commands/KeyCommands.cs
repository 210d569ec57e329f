using System.CommandLine;
using System.Globalization;
using Outpost.Identity.SigningKeys;

namespace Outpost.Admin.Commands;

/// <summary><c>keys rotate</c>, <c>keys list</c>, <c>keys remove &lt;kid&gt;</c>.</summary>
internal static class KeyCommands
{
    public const string Name = "keys";

    public static Command Create(CliContext context)
    {
        var rotate = new Command("rotate", "Makes a new signing key active; the previous one verifies until its tokens expire.");
        rotate.SetAction(async (parse, cancellationToken) =>
        {
            var keys = await context.GetAsync<SigningKeyStore>(cancellationToken);
            var key = await keys.RotateAsync(cancellationToken);
            await context.Output.WriteLineAsync($"active signing key: {key.Kid} ({key.Algorithm})");
            await context.Output.WriteLineAsync(
                "gateways pick it up within Security:SigningKeys:RefreshInterval; the previous key verifies until its tokens have expired.");
            return 0;
        });

        var list = new Command("list", "Lists the signing keys, newest first (public facts only).");
        list.SetAction(async (parse, cancellationToken) =>
        {
            var keys = await context.GetAsync<SigningKeyStore>(cancellationToken);
            await keys.EnsureActiveKeyAsync(cancellationToken);
            foreach (var key in await keys.ListAsync(cancellationToken))
            {
                await context.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{key.Kid}  {key.Status,-7}  {key.Algorithm}  created {key.CreatedAt:yyyy-MM-ddTHH:mm:ssZ}{(key.RetiredAt is { } retired ? $"  retired {retired:yyyy-MM-ddTHH:mm:ssZ}" : "")}{(key.RemovedAt is { } removed ? $"  removed {removed:yyyy-MM-ddTHH:mm:ssZ}" : "")}"));
            }

            return 0;
        });

        var kid = new Argument<string>("kid") { Description = "The key id, as keys list shows it." };
        var remove = new Command("remove", "Removes a key at once: tokens it signed are refused from now on.") { kid };
        remove.SetAction(async (parse, cancellationToken) =>
        {
            var keys = await context.GetAsync<SigningKeyStore>(cancellationToken);
            if (!await keys.RemoveAsync(parse.GetRequiredValue(kid), cancellationToken))
            {
                throw new CliUsageException($"no signing key '{parse.GetRequiredValue(kid)}' is in use.");
            }

            await context.Output.WriteLineAsync($"removed signing key {parse.GetRequiredValue(kid)}");
            return 0;
        });

        return new Command(Name, "Manages the token signing keys.") { rotate, list, remove };
    }
}
