using System.Security.Cryptography;
using System.Text;
using Outpost.Identity.Clients;
using Outpost.Identity.Tenants;
using Outpost.Testing.Identity;
using Outpost.Testing.PostgreSql;
using Xunit;

namespace Outpost.Identity.Tests.Stores;

[Collection(IdentityCollection.Name)]
public sealed class IdentityStoreTests(PostgreSqlFixture fixture) : IAsyncLifetime
{
    private IdentityDatabase _database = null!;

    public async Task InitializeAsync()
    {
        _database = await IdentityDatabase.CreateAsync(fixture);
        await _database.Tenants().CreateAsync("acme", "Acme");
        await _database.Tenants().CreateAsync("globex", null);
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task CreateClient_Confidential_SecretReturnedOnceAndOnlyItsHashStored()
    {
        var clients = _database.Clients();

        var created = await clients.CreateAsync("acme", "ci", ClientKind.Confidential, [Scopes.EmbedCreate]);

        Assert.NotNull(created.Secret);
        Assert.True(created.Secret.Length >= 43, "the secret carries 256 random bits");
        var stored = await _database.ScalarAsync<byte[]>(
            "SELECT secret_hash FROM outpost_clients WHERE client_id = @id", ("id", created.Client.ClientId));
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(created.Secret)), stored);
        var rowText = await _database.ScalarAsync<string>(
            "SELECT row_to_json(c)::text FROM outpost_clients c WHERE client_id = @id", ("id", created.Client.ClientId));
        Assert.DoesNotContain(created.Secret, rowText, StringComparison.Ordinal);

        // Nothing read back afterwards carries the secret: it existed once, in the creation result.
        var listed = Assert.Single(await clients.ListAsync("acme"));
        Assert.DoesNotContain(created.Secret, listed.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidateSecret_RightWrongAndOtherClientsSecret_OnlyRightOneAccepted()
    {
        var clients = _database.Clients();
        var first = await clients.CreateAsync("acme", "one", ClientKind.Confidential, [Scopes.EmbedCreate]);
        var second = await clients.CreateAsync("acme", "two", ClientKind.Confidential, [Scopes.EmbedCreate]);

        Assert.Equal(first.Client.ClientId, (await clients.ValidateSecretAsync(first.Client.ClientId, first.Secret!))?.ClientId);
        Assert.Null(await clients.ValidateSecretAsync(first.Client.ClientId, first.Secret! + "x"));
        Assert.Null(await clients.ValidateSecretAsync(first.Client.ClientId, second.Secret!));
        Assert.Null(await clients.ValidateSecretAsync("oc_nosuchclient", first.Secret!));
    }

    [Fact]
    public async Task ValidateSecret_DisabledClient_Refused()
    {
        var clients = _database.Clients();
        var created = await clients.CreateAsync("acme", "ci", ClientKind.Confidential, [Scopes.EmbedCreate]);

        await clients.UpdateAsync("acme", created.Client.ClientId, null, disabled: true);

        Assert.Null(await clients.ValidateSecretAsync(created.Client.ClientId, created.Secret!));
    }

    [Fact]
    public async Task CreateClient_Public_HasNoSecret()
    {
        var created = await _database.Clients().CreateAsync("acme", "desktop", ClientKind.Public, [Scopes.EmbedCreate]);

        Assert.Null(created.Secret);
        Assert.Null(await _database.ScalarAsync<byte[]>(
            "SELECT secret_hash FROM outpost_clients WHERE client_id = @id", ("id", created.Client.ClientId)));
    }

    [Fact]
    public async Task CreateClient_UnknownScope_Refused()
    {
        var ex = await Assert.ThrowsAsync<IdentityStoreException>(() =>
            _database.Clients().CreateAsync("acme", "ci", ClientKind.Confidential, [Scopes.EmbedCreate, "root:everything"]));

        Assert.Equal(IdentityError.Invalid, ex.Error);
        Assert.Contains("root:everything", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateClient_UnknownTenant_NotFound()
    {
        var ex = await Assert.ThrowsAsync<IdentityStoreException>(() =>
            _database.Clients().CreateAsync("initech", "ci", ClientKind.Confidential, [Scopes.EmbedCreate]));

        Assert.Equal(IdentityError.NotFound, ex.Error);
    }

    [Theory]
    [InlineData("", "embed:create infer:create")]
    [InlineData("embed:create", "embed:create")]
    [InlineData("infer:create embed:create", "embed:create infer:create")]
    [InlineData("embed:create admin", null)]
    [InlineData("code:execute", null)]
    public void Grant_RequestedScopes_NeverMoreThanAllowed(string requested, string? expected)
    {
        var granted = ScopeList.Grant(ScopeList.Parse(requested), [Scopes.EmbedCreate, Scopes.InferCreate]);

        Assert.Equal(expected, granted is null ? null : ScopeList.Format(granted));
    }

    [Fact]
    public async Task FindByCertificateThumbprint_AnySpelling_FindsEnabledClientOnly()
    {
        var certificateHash = RandomNumberGenerator.GetBytes(32);
        var colonLower = string.Join(':', certificateHash.Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
        var clients = _database.Clients();
        var created = await clients.CreateAsync("acme", "robot", ClientKind.Confidential, [Scopes.EmbedCreate], colonLower);

        Assert.Equal(Convert.ToHexString(certificateHash), created.Client.CertificateThumbprint);
        Assert.Equal(created.Client.ClientId, (await clients.FindByCertificateThumbprintAsync(Convert.ToHexString(certificateHash)))?.ClientId);
        Assert.Null(await clients.FindByCertificateThumbprintAsync(Convert.ToHexString(RandomNumberGenerator.GetBytes(32))));

        await clients.UpdateAsync("acme", created.Client.ClientId, null, disabled: true);
        Assert.Null(await clients.FindByCertificateThumbprintAsync(Convert.ToHexString(certificateHash)));
    }

    [Fact]
    public async Task CreateClient_ThumbprintTaken_Conflict()
    {
        var thumbprint = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        var clients = _database.Clients();
        await clients.CreateAsync("acme", "robot", ClientKind.Confidential, [Scopes.EmbedCreate], thumbprint);

        var ex = await Assert.ThrowsAsync<IdentityStoreException>(() =>
            clients.CreateAsync("globex", "robot", ClientKind.Confidential, [Scopes.EmbedCreate], thumbprint));

        Assert.Equal(IdentityError.Conflict, ex.Error);
    }

    [Fact]
    public async Task UpdateClient_OtherTenantsClient_NotFound()
    {
        var clients = _database.Clients();
        var created = await clients.CreateAsync("acme", "ci", ClientKind.Confidential, [Scopes.EmbedCreate]);

        Assert.Null(await clients.UpdateAsync("globex", created.Client.ClientId, [Scopes.Admin], null));
        Assert.Equal([Scopes.EmbedCreate], (await clients.FindAsync(created.Client.ClientId))!.AllowedScopes);
    }

    [Fact]
    public async Task TenantAdmin_Verify_OnlyRightPasswordInRightTenant()
    {
        var admins = _database.Admins();
        await admins.CreateAsync("acme", "alice", "correct horse battery");

        Assert.True(await admins.VerifyAsync("acme", "alice", "correct horse battery"));
        Assert.False(await admins.VerifyAsync("acme", "alice", "correct horse battery!"));
        Assert.False(await admins.VerifyAsync("globex", "alice", "correct horse battery"));
        Assert.False(await admins.VerifyAsync("acme", "bob", "correct horse battery"));
    }

    [Fact]
    public async Task TenantAdmin_Create_StoresSaltedPbkdf2Hash()
    {
        await _database.Admins().CreateAsync("acme", "alice", "correct horse battery");
        await _database.Admins().CreateAsync("globex", "alice", "correct horse battery");

        var hashes = new List<string>();
        foreach (var tenant in new[] { "acme", "globex" })
        {
            hashes.Add((await _database.ScalarAsync<string>(
                "SELECT password_hash FROM outpost_tenant_admins WHERE tenant_id = @t", ("t", tenant)))!);
        }

        Assert.All(hashes, h => Assert.StartsWith($"pbkdf2-sha256${TenantAdminStore.Iterations}$", h, StringComparison.Ordinal));
        Assert.True(TenantAdminStore.Iterations >= 210_000);
        Assert.NotEqual(hashes[0], hashes[1]);
        Assert.All(hashes, h => Assert.DoesNotContain("horse", h, StringComparison.Ordinal));
    }

    [Fact]
    public async Task TenantAdmin_ShortPasswordOrDuplicate_Refused()
    {
        var admins = _database.Admins();
        Assert.Equal(IdentityError.Invalid, (await Assert.ThrowsAsync<IdentityStoreException>(() => admins.CreateAsync("acme", "alice", "short"))).Error);

        await admins.CreateAsync("acme", "alice", "correct horse battery");
        Assert.Equal(IdentityError.Conflict, (await Assert.ThrowsAsync<IdentityStoreException>(() => admins.CreateAsync("acme", "alice", "another long password"))).Error);
    }

    [Theory]
    [InlineData("Acme")]
    [InlineData("-acme")]
    [InlineData("acme-")]
    [InlineData("ac me")]
    [InlineData("")]
    public async Task CreateTenant_BadId_Refused(string id)
    {
        var ex = await Assert.ThrowsAsync<IdentityStoreException>(() => _database.Tenants().CreateAsync(id, null));

        Assert.Equal(IdentityError.Invalid, ex.Error);
    }

    [Fact]
    public async Task CreateTenant_Duplicate_Conflict_AndSystemTenantExists()
    {
        var ex = await Assert.ThrowsAsync<IdentityStoreException>(() => _database.Tenants().CreateAsync("acme", null));

        Assert.Equal(IdentityError.Conflict, ex.Error);
        Assert.NotNull(await _database.Tenants().FindAsync(OutpostClaims.SystemTenant));
    }

    [Fact]
    public async Task DeviceAssignment_TenantThenShared_AndUnknownTenantRefused()
    {
        var assignments = _database.Assignments();

        await assignments.SetAsync("dev-pi-1", "acme");
        Assert.Equal("acme", (await assignments.FindAsync("dev-pi-1"))!.TenantId);

        await assignments.SetAsync("dev-pi-1", null);
        Assert.True((await assignments.FindAsync("dev-pi-1"))!.IsShared);

        var ex = await Assert.ThrowsAsync<IdentityStoreException>(() => assignments.SetAsync("dev-pi-2", "initech"));
        Assert.Equal(IdentityError.NotFound, ex.Error);
    }
}
