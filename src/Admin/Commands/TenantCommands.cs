using System.CommandLine;
using System.Globalization;
using Outpost.Identity.Tenants;

namespace Outpost.Admin.Commands;

/// <summary><c>tenant create &lt;id&gt; [--name N]</c>, <c>tenant list</c>.</summary>
internal static class TenantCommands
{
    public const string Name = "tenant";

    public static Command Create(CliContext context)
    {
        var id = new Argument<string>("id") { Description = "The tenant id: 1-63 lower-case letters, digits and inner hyphens." };
        var name = new Option<string?>("--name") { Description = "A display name (default: the id)." };
        var create = new Command("create", "Creates a tenant.") { id, name };
        create.SetAction(async (parse, cancellationToken) =>
        {
            var tenants = await context.GetAsync<TenantStore>(cancellationToken);
            var tenant = await tenants.CreateAsync(parse.GetRequiredValue(id), parse.GetValue(name), cancellationToken);
            await context.Output.WriteLineAsync($"created tenant {tenant.TenantId} ({tenant.DisplayName})");
            return 0;
        });

        var list = new Command("list", "Lists the tenants.");
        list.SetAction(async (parse, cancellationToken) =>
        {
            var tenants = await (await context.GetAsync<TenantStore>(cancellationToken)).ListAsync(cancellationToken);
            foreach (var tenant in tenants)
            {
                await context.Output.WriteLineAsync(string.Create(
                    CultureInfo.InvariantCulture, $"{tenant.TenantId,-24} {tenant.CreatedAt:yyyy-MM-ddTHH:mm:ssZ}  {tenant.DisplayName}"));
            }

            return 0;
        });

        return new Command(Name, "Manages tenants.") { create, list };
    }
}
