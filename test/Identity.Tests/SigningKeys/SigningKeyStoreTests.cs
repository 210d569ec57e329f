using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;
using Outpost.Identity.SigningKeys;
using Outpost.Identity.Tokens;
using Outpost.ServiceDefaults.Configuration;
using Outpost.ServiceDefaults.Security;
using Outpost.Testing.Identity;
using Outpost.Testing.PostgreSql;
using Xunit;

namespace Outpost.Identity.Tests.SigningKeys;

[Collection(IdentityCollection.Name)]
public sealed class SigningKeyStoreTests(PostgreSqlFixture fixture) : IAsyncLifetime
{
    private IdentityDatabase _database = null!;

    public async Task InitializeAsync() => _database = await IdentityDatabase.CreateAsync(fixture);

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task FirstStart_CreatesOneEs256Key()
    {
        var store = _database.CreateSigningKeyStore();

        var credentials = await store.GetSigningKeyAsync();
        await _database.CreateSigningKeyStore().GetSigningKeyAsync();

        Assert.Equal("ES256", credentials.Algorithm);
        var key = Assert.Single(await store.ListAsync());
        Assert.Equal(credentials.Key.KeyId, key.Kid);
        Assert.Equal(SigningKeyInfo.Active, key.Status);
    }

    [Fact]
    public async Task StoredKey_PrivatePartEncrypted_NoPlaintextInRow()
    {
        var store = _database.CreateSigningKeyStore();
        var kid = (await store.GetSigningKeyAsync()).Key.KeyId;

        var row = await _database.ScalarAsync<string>("SELECT row_to_json(k)::text FROM outpost_signing_keys k WHERE kid = @kid", ("kid", kid));
        var encrypted = (await _database.ScalarAsync<byte[]>("SELECT private_key_encrypted FROM outpost_signing_keys WHERE kid = @kid", ("kid", kid)))!;
        var nonce = (await _database.ScalarAsync<byte[]>("SELECT nonce FROM outpost_signing_keys WHERE kid = @kid", ("kid", kid)))!;
        var jwk = (await _database.ScalarAsync<string>("SELECT public_jwk::text FROM outpost_signing_keys WHERE kid = @kid", ("kid", kid)))!;

        // The master key opens it (with the kid as associated data), and what it opens is the private key...
        var pkcs8 = _database.LoadMasterKey().Decrypt(encrypted, nonce, kid);
        using var ecdsa = ECDsa.Create();
        ecdsa.ImportPkcs8PrivateKey(pkcs8, out _);
        var d = ecdsa.ExportParameters(includePrivateParameters: true).D!;

        // ...which appears nowhere in the row: not as bytes, not as base64url, not as PEM, not as a JWK "d".
        Assert.Equal(-1, encrypted.AsSpan().IndexOf(d));
        Assert.Equal(-1, encrypted.AsSpan().IndexOf(pkcs8));
        Assert.DoesNotContain(Base64UrlEncoder.Encode(d), row, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", row, StringComparison.Ordinal);
        using var document = JsonDocument.Parse(jwk);
        Assert.False(document.RootElement.TryGetProperty("d", out _));
        Assert.Throws<AuthenticationTagMismatchException>(() => _database.LoadMasterKey().Decrypt(encrypted, nonce, "another-kid"));
    }

    [Fact]
    public async Task Jwks_PublicPartsOnly()
    {
        var store = _database.CreateSigningKeyStore();
        await store.GetSigningKeyAsync();
        await store.RotateAsync();

        using var document = JsonDocument.Parse(store.JsonWebKeySetJson);
        var keys = document.RootElement.GetProperty("keys").EnumerateArray().ToList();
        Assert.Equal(2, keys.Count);
        Assert.All(keys, k =>
        {
            Assert.Equal("EC", k.GetProperty("kty").GetString());
            Assert.Equal("P-256", k.GetProperty("crv").GetString());
            Assert.False(k.TryGetProperty("d", out _));
        });
        Assert.All(store.ValidationKeys, k => Assert.ThrowsAny<CryptographicException>(() => ((ECDsaSecurityKey)k).ECDsa.ExportParameters(includePrivateParameters: true)));
        Assert.All(store.JsonWebKeySet.Keys, k => Assert.False(k.HasPrivateKey));
    }

    [Fact]
    public async Task Rotate_OldKeyKeepsVerifying_UntilRemoved()
    {
        var store = _database.CreateSigningKeyStore();
        var issuer = _database.CreateTokenIssuer(store);
        var old = await issuer.IssueAsync(new AccessTokenRequest("c", "c", "acme", [Scopes.EmbedCreate]));

        var rotated = await store.RotateAsync();
        var fresh = await issuer.IssueAsync(new AccessTokenRequest("c", "c", "acme", [Scopes.EmbedCreate]));

        Assert.NotEqual(old.Kid, rotated.Kid);
        Assert.Equal(rotated.Kid, fresh.Kid);
        Assert.Equal(SigningKeyInfo.Retired, (await store.FindAsync(old.Kid))!.Status);
        Assert.True((await TokenVerification.ValidateAsync(old.AccessToken, store.ValidationKeys, _database.Security)).IsValid);
        Assert.True((await TokenVerification.ValidateAsync(fresh.AccessToken, store.ValidationKeys, _database.Security)).IsValid);

        Assert.True(await store.RemoveAsync(old.Kid));

        Assert.DoesNotContain(store.ValidationKeys, k => k.KeyId == old.Kid);
        Assert.DoesNotContain(store.JsonWebKeySet.Keys, k => k.KeyId == old.Kid);
        Assert.False((await TokenVerification.ValidateAsync(old.AccessToken, store.ValidationKeys, _database.Security)).IsValid);
        Assert.True((await TokenVerification.ValidateAsync(fresh.AccessToken, store.ValidationKeys, _database.Security)).IsValid);
        Assert.Empty((await _database.ScalarAsync<byte[]>(
            "SELECT private_key_encrypted FROM outpost_signing_keys WHERE kid = @kid", ("kid", old.Kid)))!);
    }

    [Fact]
    public async Task RetiredKey_RemovedAutomatically_OnceItsTokensHaveExpired()
    {
        var store = _database.CreateSigningKeyStore();
        var old = (await store.GetSigningKeyAsync()).Key.KeyId;
        await store.RotateAsync();

        _database.Time.Advance(store.RetiredKeyGrace - TimeSpan.FromSeconds(1));
        await store.RefreshAsync();
        Assert.Contains(store.ValidationKeys, k => k.KeyId == old);

        _database.Time.Advance(TimeSpan.FromSeconds(2));
        await store.RefreshAsync();
        Assert.DoesNotContain(store.ValidationKeys, k => k.KeyId == old);
        Assert.Equal(SigningKeyInfo.Removed, (await store.FindAsync(old))!.Status);
        Assert.True(store.RetiredKeyGrace >= _database.Security.AccessTokenLifetime + _database.Security.ClockSkew);
    }

    [Fact]
    public async Task Rotate_OnOneGateway_SeenByAnotherAfterRefresh()
    {
        var first = _database.CreateSigningKeyStore();
        var second = _database.CreateSigningKeyStore();
        var old = (await first.GetSigningKeyAsync()).Key.KeyId;
        Assert.Equal(old, (await second.GetSigningKeyAsync()).Key.KeyId);

        var rotated = await first.RotateAsync();
        await second.RefreshAsync();

        Assert.Equal(rotated.Kid, (await second.GetSigningKeyAsync()).Key.KeyId);
        Assert.Contains(second.ValidationKeys, k => k.KeyId == old);
    }

    [Fact]
    public async Task RemoveActiveKey_NewKeyBecomesActive()
    {
        var store = _database.CreateSigningKeyStore();
        var old = (await store.GetSigningKeyAsync()).Key.KeyId;

        Assert.True(await store.RemoveAsync(old));

        var current = (await store.GetSigningKeyAsync()).Key.KeyId;
        Assert.NotEqual(old, current);
        Assert.DoesNotContain(store.ValidationKeys, k => k.KeyId == old);
        Assert.False(await store.RemoveAsync(old));
    }

    [Fact]
    public async Task WrongMasterKey_ClearStartupError()
    {
        await _database.CreateSigningKeyStore().GetSigningKeyAsync();
        var otherKeyFile = Path.Combine(_database.Directory, "other.key");
        await File.WriteAllTextAsync(otherKeyFile, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        var otherKey = MasterKey.Load(otherKeyFile, createWhenMissing: false);

        var ex = await Assert.ThrowsAsync<StartupConfigurationException>(() => _database.CreateSigningKeyStore(otherKey).RefreshAsync());

        Assert.Contains("Security:MasterKeyFile", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MasterKey_Missing_ErrorNamesKey_OrCreatedWithMode0600()
    {
        var path = Path.Combine(_database.Directory, "sub", "master.key");

        var ex = Assert.Throws<StartupConfigurationException>(() => MasterKey.Load(path, createWhenMissing: false));
        Assert.StartsWith("Security:MasterKeyFile", ex.Message, StringComparison.Ordinal);

        MasterKey.Load(path, createWhenMissing: true);
        Assert.Equal(32, Convert.FromBase64String(File.ReadAllText(path).Trim()).Length);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        File.WriteAllText(path, "not base64 at all");
        Assert.Contains("Security:MasterKeyFile", Assert.Throws<StartupConfigurationException>(
            () => MasterKey.Load(path, createWhenMissing: false)).Message, StringComparison.Ordinal);
    }
}
