using System.CommandLine;
using System.Globalization;
using Outpost.Identity;
using Outpost.Identity.Clients;
using Outpost.Identity.Tokens;

namespace Outpost.Admin.Commands;

/// <summary>
/// <c>token issue &lt;tenant&gt; &lt;client_id&gt; [--scopes "..."] [--lifetime 01:00:00] [--out FILE]</c>: a signed
/// access token for a registered client, as the token endpoint would issue it (<c>sub</c> = the client).
/// </summary>
internal static class TokenCommands
{
    public const string Name = "token";

    // A bearer token cannot be recalled except by disabling its client: a month is the longest one may live.
    private static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(30);

    public static Command Create(CliContext context)
    {
        var tenant = new Argument<string>("tenant") { Description = "The client's tenant." };
        var clientId = new Argument<string>("client_id") { Description = "The client the token is issued to." };
        var scopes = new Option<string?>("--scopes") { Description = "Space-separated scopes (default: all the client may have)." };
        var lifetime = new Option<string?>("--lifetime")
        {
            Description = "How long the token is valid, as [d.]hh:mm:ss (default Security:AccessTokenLifetime). "
                + "A key rotation stops tokens that outlive Security:AccessTokenLifetime early.",
        };
        var output = new Option<FileInfo?>("--out") { Description = "Write the token to this file (mode 0600) instead of standard output." };
        var issue = new Command("issue", "Issues a signed access token.") { tenant, clientId, scopes, lifetime, output };
        issue.SetAction(async (parse, cancellationToken) =>
        {
            var tokenLifetime = ParseLifetime(parse.GetValue(lifetime));
            var clients = await context.GetAsync<ClientStore>(cancellationToken);
            var client = await clients.FindAsync(parse.GetRequiredValue(clientId), cancellationToken);
            if (client is null || !string.Equals(client.TenantId, parse.GetRequiredValue(tenant), StringComparison.Ordinal))
            {
                throw new CliUsageException($"tenant '{parse.GetRequiredValue(tenant)}' has no client '{parse.GetRequiredValue(clientId)}'.");
            }

            if (client.IsDisabled)
            {
                throw new CliUsageException($"client '{client.ClientId}' is disabled.");
            }

            var requested = ScopeList.Validate(ScopeList.Parse(parse.GetValue(scopes)));
            var granted = ScopeList.Grant(requested, client.AllowedScopes)
                ?? throw new CliUsageException(
                    $"client '{client.ClientId}' may only have the scopes '{ScopeList.Format(client.AllowedScopes)}'.");

            var issuer = await context.GetAsync<TokenIssuer>(cancellationToken);
            var token = await issuer.IssueAsync(
                new AccessTokenRequest(client.ClientId, client.ClientId, client.TenantId, granted, tokenLifetime), cancellationToken);
            if (parse.GetValue(output) is { } file)
            {
                await WriteSecretFileAsync(file.FullName, token.AccessToken, cancellationToken);
                await context.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"wrote access token for {client.ClientId} (tenant {client.TenantId}, scope '{token.Scope}', expires {token.ExpiresAt:yyyy-MM-ddTHH:mm:ssZ}) to {file.FullName}"));
            }
            else
            {
                await context.Output.WriteLineAsync(token.AccessToken);
            }

            return 0;
        });

        return new Command(Name, "Issues access tokens.") { issue };
    }

    private static TimeSpan? ParseLifetime(string? value)
    {
        if (value is null)
        {
            return null;
        }

        return TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var lifetime) && lifetime > TimeSpan.Zero && lifetime <= MaxLifetime
            ? lifetime
            : throw new CliUsageException($"--lifetime: '{value}' is not a time span from 00:00:01 to 30.00:00:00 ([d.]hh:mm:ss).");
    }

    private static async Task WriteSecretFileAsync(string path, string token, CancellationToken cancellationToken)
    {
        if (Path.GetDirectoryName(path) is { Length: > 0 } directory)
        {
            Directory.CreateDirectory(directory);
        }

        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using var stream = new FileStream(path, options);
        await using var writer = new StreamWriter(stream);
        await writer.WriteLineAsync(token.AsMemory(), cancellationToken);
    }
}
