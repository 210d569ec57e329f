using System.CommandLine;
using Outpost.Identity;
using Outpost.Identity.Clients;

namespace Outpost.Admin.Commands;

/// <summary><c>client create &lt;tenant&gt; &lt;name&gt; --scopes "a b" [--public] [--certificate-thumbprint X]</c>, <c>client list &lt;tenant&gt;</c>.</summary>
internal static class ClientCommands
{
    public const string Name = "client";

    public static Command Create(CliContext context)
    {
        var tenant = new Argument<string>("tenant") { Description = "The tenant the client belongs to." };
        var name = new Argument<string>("name") { Description = "A name people recognise, shown on the device approval page." };
        var scopes = new Option<string>("--scopes") { Description = "The scopes the client may ask for, space-separated.", Required = true };
        var isPublic = new Option<bool>("--public") { Description = "A public client (device flow, no secret) instead of a confidential one." };
        var thumbprint = new Option<string?>("--certificate-thumbprint")
        {
            Description = "SHA-256 of the client's TLS certificate (hex), to authenticate it by mTLS.",
        };
        var create = new Command("create", "Registers a client and prints its id and, once, its secret.")
        {
            tenant, name, scopes, isPublic, thumbprint,
        };
        create.SetAction(async (parse, cancellationToken) =>
        {
            var clients = await context.GetAsync<ClientStore>(cancellationToken);
            var created = await clients.CreateAsync(
                parse.GetRequiredValue(tenant),
                parse.GetRequiredValue(name),
                parse.GetValue(isPublic) ? ClientKind.Public : ClientKind.Confidential,
                ScopeList.Parse(parse.GetRequiredValue(scopes)),
                parse.GetValue(thumbprint),
                cancellationToken);
            var output = context.Output;
            await output.WriteLineAsync($"client_id: {created.Client.ClientId}");
            if (created.Secret is not null)
            {
                await output.WriteLineAsync($"client_secret: {created.Secret}");
                await context.Error.WriteLineAsync("The secret is shown this once and stored only as a hash: keep it now.");
            }

            await output.WriteLineAsync($"tenant: {created.Client.TenantId}");
            await output.WriteLineAsync($"allowed_scopes: {ScopeList.Format(created.Client.AllowedScopes)}");
            return 0;
        });

        var listTenant = new Argument<string>("tenant") { Description = "The tenant whose clients to list." };
        var list = new Command("list", "Lists a tenant's clients (never their secrets).") { listTenant };
        list.SetAction(async (parse, cancellationToken) =>
        {
            var clients = await (await context.GetAsync<ClientStore>(cancellationToken)).ListAsync(parse.GetRequiredValue(listTenant), cancellationToken);
            foreach (var client in clients)
            {
                var state = client.IsDisabled ? "disabled" : "enabled";
                var kind = client.Kind == ClientKind.Public ? "public" : "confidential";
                await context.Output.WriteLineAsync($"{client.ClientId}  {kind,-12}  {state,-8}  {client.Name}  [{ScopeList.Format(client.AllowedScopes)}]");
            }

            return 0;
        });

        return new Command(Name, "Manages OAuth clients.") { create, list };
    }
}
