using Microsoft.IdentityModel.JsonWebTokens;
using Outpost.Identity;
using Outpost.Identity.Clients;
using Outpost.Testing.Identity;
using Outpost.Testing.PostgreSql;
using Xunit;

namespace Outpost.Admin.Tests;

/// <summary>The admin CLI run in-process against a test database, with its output and exit codes.</summary>
[Collection(IdentityCollection.Name)]
public sealed class AdminCliTests(PostgreSqlFixture fixture) : IAsyncLifetime
{
    private IdentityDatabase _database = null!;

    public async Task InitializeAsync() => _database = await IdentityDatabase.CreateAsync(fixture);

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task TenantCreate_ThenDuplicateAndBadId_ExitCodes()
    {
        var created = await RunAsync("tenant", "create", "acme", "--name", "Acme Corp");
        Assert.Equal(0, created.ExitCode);
        Assert.Contains("created tenant acme", created.Output, StringComparison.Ordinal);
        Assert.Equal("Acme Corp", (await _database.Tenants().FindAsync("acme"))!.DisplayName);

        var duplicate = await RunAsync("tenant", "create", "acme");
        Assert.Equal(1, duplicate.ExitCode);
        Assert.Equal("outpost: tenant 'acme' already exists.", duplicate.Error.Trim());

        var bad = await RunAsync("tenant", "create", "Not_Valid");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("not a valid tenant id", bad.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminUnlock_ClearsALockedAccount_AndSaysWhenThereWasNothing()
    {
        var throttle = new Outpost.Identity.Logins.LoginThrottle(_database.DataSource, _database.Time);
        for (var i = 0; i < Outpost.Identity.Logins.LoginThrottle.LockoutFailures; i++)
        {
            await throttle.RecordFailureAsync("acme", "alice", address: null);
        }

        var locked = await throttle.WaitAsync("acme", "alice", address: null);
        var unlocked = await RunAsync("admin", "unlock", "acme", "alice");
        var again = await RunAsync("admin", "unlock", "acme", "alice");

        Assert.True(locked > TimeSpan.FromMinutes(30), $"locked for {locked}");
        Assert.Equal(0, unlocked.ExitCode);
        Assert.Contains("cleared the failed sign-ins of alice", unlocked.Output, StringComparison.Ordinal);
        Assert.Null(await throttle.WaitAsync("acme", "alice", address: null));
        Assert.Contains("had no failed sign-ins", again.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingArgumentOrUnknownCommand_ExitCode1()
    {
        Assert.Equal(1, (await RunAsync("tenant", "create")).ExitCode);
        Assert.Equal(1, (await RunAsync("client", "create", "acme", "ci")).ExitCode); // --scopes is required
        Assert.Equal(1, (await RunAsync("keys", "polish")).ExitCode);
    }

    [Fact]
    public async Task ClientCreate_PrintsIdAndSecretOnce_SecretWorks()
    {
        await _database.Tenants().CreateAsync("acme", null);

        var result = await RunAsync("client", "create", "acme", "ci", "--scopes", "embed:create infer:create");

        Assert.Equal(0, result.ExitCode);
        var clientId = Value(result.Output, "client_id");
        var secret = Value(result.Output, "client_secret");
        Assert.NotNull(await _database.Clients().ValidateSecretAsync(clientId, secret));
        Assert.Equal([Scopes.EmbedCreate, Scopes.InferCreate], (await _database.Clients().FindAsync(clientId))!.AllowedScopes);

        var list = await RunAsync("client", "list", "acme");
        Assert.Contains(clientId, list.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, list.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientCreate_PublicWithUnknownScope_Refused()
    {
        await _database.Tenants().CreateAsync("acme", null);

        var result = await RunAsync("client", "create", "acme", "desktop", "--public", "--scopes", "embed:create god:mode");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("god:mode", result.Error, StringComparison.Ordinal);
        Assert.Empty(await _database.Clients().ListAsync("acme"));
    }

    [Fact]
    public async Task AdminCreate_PasswordFromStdinOrFile()
    {
        await _database.Tenants().CreateAsync("acme", null);
        var file = Path.Combine(_database.Directory, "password.txt");
        await File.WriteAllTextAsync(file, "another long password\n");

        var fromStdin = await RunAsync(new StringReader("correct horse battery\n"), "admin", "create", "acme", "alice");
        var fromFile = await RunAsync("admin", "create", "acme", "bob", "--password-file", file);
        var none = await RunAsync(new StringReader(""), "admin", "create", "acme", "carol");

        Assert.Equal(0, fromStdin.ExitCode);
        Assert.Equal(0, fromFile.ExitCode);
        Assert.Equal(1, none.ExitCode);
        Assert.True(await _database.Admins().VerifyAsync("acme", "alice", "correct horse battery"));
        Assert.True(await _database.Admins().VerifyAsync("acme", "bob", "another long password"));
    }

    [Fact]
    public async Task TokenIssue_PrintsVerifiableToken_ScopesWithinRegistration()
    {
        await _database.Tenants().CreateAsync("acme", null);
        var client = await _database.Clients().CreateAsync("acme", "ci", ClientKind.Confidential, [Scopes.EmbedCreate, Scopes.InferCreate]);

        var result = await RunAsync("token", "issue", "acme", client.Client.ClientId, "--scopes", "embed:create", "--lifetime", "02:00:00");

        Assert.Equal(0, result.ExitCode);
        var token = result.Output.Trim();
        var keys = _database.CreateSigningKeyStore();
        await keys.RefreshAsync();
        var validation = await TokenVerification.ValidateAsync(token, keys.ValidationKeys, "https://outpost.test", "outpost");
        Assert.True(validation.IsValid, validation.Exception?.Message);
        var jwt = (JsonWebToken)validation.SecurityToken;
        Assert.Equal("acme", jwt.GetClaim("tenant").Value);
        Assert.Equal("embed:create", jwt.GetClaim("scope").Value);
        Assert.Equal(TimeSpan.FromHours(2), jwt.ValidTo - jwt.IssuedAt);

        var excess = await RunAsync("token", "issue", "acme", client.Client.ClientId, "--scopes", "admin");
        Assert.Equal(1, excess.ExitCode);
        var wrongTenant = await RunAsync("token", "issue", "system", client.Client.ClientId);
        Assert.Equal(1, wrongTenant.ExitCode);
    }

    [Fact]
    public async Task TokenIssue_OutFile_WrittenWithMode0600()
    {
        await _database.Tenants().CreateAsync("acme", null);
        var client = await _database.Clients().CreateAsync("acme", "ci", ClientKind.Confidential, [Scopes.EmbedCreate]);
        var file = Path.Combine(_database.Directory, "tokens", "ci.token");

        var result = await RunAsync("token", "issue", "acme", client.Client.ClientId, "--out", file);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains(file, result.Output, StringComparison.Ordinal);
        Assert.Equal(3, (await File.ReadAllTextAsync(file)).Trim().Split('.').Length);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
    }

    [Fact]
    public async Task KeysRotateAndList_ShowActiveAndRetired()
    {
        var first = await RunAsync("keys", "list");
        var rotate = await RunAsync("keys", "rotate");
        var list = await RunAsync("keys", "list");

        Assert.Equal(0, first.ExitCode);
        Assert.Equal(0, rotate.ExitCode);
        var lines = list.Output.Trim().Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.Contains(" active ", lines[0], StringComparison.Ordinal);
        Assert.Contains(" retired ", lines[1], StringComparison.Ordinal);
        Assert.Contains(lines[0].Split(' ')[0], rotate.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DevicesList_ShowsAssignments()
    {
        await _database.Tenants().CreateAsync("acme", null);
        Assert.Equal(0, (await RunAsync("devices", "assign", "dev-pi-1", "--tenant", "acme")).ExitCode);
        Assert.Equal(0, (await RunAsync("devices", "assign", "dev-pi-2", "--shared")).ExitCode);

        var result = await RunAsync("devices", "list");

        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"dev-pi-1\s+acme\s+unseen", result.Output);
        Assert.Matches(@"dev-pi-2\s+\(shared\)\s+unseen", result.Output);
    }

    [Fact]
    public async Task MissingConnectionString_ExitCode2_NamesKey()
    {
        var result = await AdminCli.RunAsync(
            ["tenant", "list", "--ConnectionStrings:Outpost=", $"--Security:MasterKeyFile={_database.Security.MasterKeyFile}"],
            new StringReader(""), new StringWriter(), new StringWriter() is var error ? error : null!);

        Assert.Equal(2, result);
        Assert.StartsWith("outpost: ConnectionStrings:Outpost", error.ToString(), StringComparison.Ordinal);
        Assert.Single(error.ToString().Trim().Split('\n'));
    }

    [Fact]
    public async Task MissingMasterKeyFile_ExitCode2_NamesKey()
    {
        var error = new StringWriter();
        var result = await AdminCli.RunAsync(
            ["keys", "rotate", $"--ConnectionStrings:Outpost={_database.ConnectionString}", $"--Security:MasterKeyFile={Path.Combine(_database.Directory, "absent.key")}"],
            new StringReader(""), new StringWriter(), error);

        Assert.Equal(2, result);
        Assert.StartsWith("outpost: Security:MasterKeyFile", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnreachableDatabase_ExitCode2()
    {
        var error = new StringWriter();
        var result = await AdminCli.RunAsync(
            ["tenant", "list", $"--ConnectionStrings:Outpost=Host=127.0.0.1;Port={Testing.Cluster.FreePorts.Next()};Username=x;Password=secret-pw;Database=z;Timeout=3"],
            new StringReader(""), new StringWriter(), error);

        Assert.Equal(2, result);
        Assert.Contains("cannot reach PostgreSQL", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("secret-pw", error.ToString(), StringComparison.Ordinal);
    }

    private Task<CliResult> RunAsync(params string[] args) => RunAsync(new StringReader(""), args);

    private async Task<CliResult> RunAsync(TextReader input, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = await AdminCli.RunAsync(
            [
                .. args,
                $"--ConnectionStrings:Outpost={_database.ConnectionString}",
                $"--Security:MasterKeyFile={_database.Security.MasterKeyFile}",
                "--Security:CreateMasterKeyFile=true",
                "--Security:Issuer=https://outpost.test",
            ],
            input,
            output,
            error);
        return new CliResult(exitCode, output.ToString(), error.ToString());
    }

    private static string Value(string output, string name) =>
        output.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith(name + ": ", StringComparison.Ordinal))[(name.Length + 2)..];

    private sealed record CliResult(int ExitCode, string Output, string Error);
}
