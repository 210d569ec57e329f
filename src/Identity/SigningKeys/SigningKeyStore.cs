using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using Npgsql;
using NpgsqlTypes;
using Outpost.ServiceDefaults.Configuration;
using Outpost.ServiceDefaults.Security;

namespace Outpost.Identity.SigningKeys;

/// <summary>
/// Outpost's token signing keys, kept in PostgreSQL with their private parts sealed by the <see cref="MasterKey"/>.
/// One key is active and signs; retired keys keep verifying until every token they signed has expired; removed keys
/// verify nothing. Every gateway holds a cached snapshot, refreshed periodically and right after its own changes.
/// </summary>
public sealed partial class SigningKeyStore : IValidationKeySource, IDisposable
{
    /// <summary>The algorithm of the keys this store creates: ECDSA on P-256 with SHA-256.</summary>
    public const string Algorithm = SecurityAlgorithms.EcdsaSha256;

    private const string ColumnsSql = "kid, algorithm, public_jwk::text, private_key_encrypted, nonce, created_at, retired_at, removed_at";

    private readonly NpgsqlDataSource _dataSource;
    private readonly MasterKey _masterKey;
    private readonly SecurityOptions _security;
    private readonly SigningKeyOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<SigningKeyStore> _logger;
    private readonly SemaphoreSlim _refreshLock = new(1, 1);
    private volatile Snapshot _snapshot = Snapshot.Empty;

    public SigningKeyStore(
        NpgsqlDataSource dataSource,
        MasterKey masterKey,
        IOptions<SecurityOptions> security,
        IOptions<SigningKeyOptions> options,
        TimeProvider timeProvider,
        ILogger<SigningKeyStore> logger)
    {
        ArgumentNullException.ThrowIfNull(security);
        ArgumentNullException.ThrowIfNull(options);
        _dataSource = dataSource;
        _masterKey = masterKey;
        _security = security.Value;
        _options = options.Value;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>Keys that verify tokens now: the active one and the retired ones not yet removed. Public parts only.</summary>
    public IReadOnlyCollection<SecurityKey> ValidationKeys => _snapshot.ValidationKeys;

    IEnumerable<SecurityKey> IValidationKeySource.ValidationKeys => _snapshot.ValidationKeys;

    /// <summary>The same keys as a JWK set, as published at <c>/.well-known/jwks.json</c>.</summary>
    public JsonWebKeySet JsonWebKeySet => _snapshot.KeySet;

    /// <summary>The JWK set serialized from the public JWKs stored with each key: no private member can slip in.</summary>
    public string JsonWebKeySetJson => _snapshot.KeySetJson;

    /// <summary>When the snapshot was last read from PostgreSQL; null before the first successful read.</summary>
    public DateTimeOffset? RefreshedAt => _snapshot.RefreshedAt;

    /// <summary>How long a retired key keeps verifying: long enough for every token signed with it to expire.</summary>
    public TimeSpan RetiredKeyGrace => _security.AccessTokenLifetime + _security.ClockSkew + _options.RefreshInterval;

    public void Dispose() => _refreshLock.Dispose();

    /// <summary>The active key's signing credentials (with its kid), creating the first key if there is none.</summary>
    public async Task<SigningCredentials> GetSigningKeyAsync(CancellationToken cancellationToken = default)
    {
        if (_snapshot.Signer is { } signer)
        {
            return signer;
        }

        await EnsureActiveKeyAsync(cancellationToken);
        await RefreshAsync(cancellationToken);
        return _snapshot.Signer
            ?? throw new InvalidOperationException("No active signing key after creating one; another process keeps removing them.");
    }

    /// <summary>Creates an ES256 key when no key is active (first start). Returns true when this call created it.</summary>
    public async Task<bool> EnsureActiveKeyAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockAsync(connection, transaction, cancellationToken);

        await using (var check = new NpgsqlCommand(
            "SELECT count(*) FROM outpost_signing_keys WHERE retired_at IS NULL AND removed_at IS NULL", connection, transaction))
        {
            if ((long)(await check.ExecuteScalarAsync(cancellationToken))! > 0)
            {
                return false;
            }
        }

        var kid = await InsertNewKeyAsync(connection, transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        LogKeyCreated(_logger, kid);
        return true;
    }

    /// <summary>Creates a new active key and retires the previous one, which keeps verifying for <see cref="RetiredKeyGrace"/>.</summary>
    public async Task<SigningKeyInfo> RotateAsync(CancellationToken cancellationToken = default)
    {
        string kid;
        string? previous;
        await using (var connection = await _dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            await LockAsync(connection, transaction, cancellationToken);
            await using (var retire = new NpgsqlCommand(
                "UPDATE outpost_signing_keys SET retired_at = @now WHERE retired_at IS NULL AND removed_at IS NULL RETURNING kid",
                connection,
                transaction))
            {
                retire.Parameters.AddWithValue("now", _timeProvider.GetUtcNow());
                previous = await retire.ExecuteScalarAsync(cancellationToken) as string;
            }

            kid = await InsertNewKeyAsync(connection, transaction, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        LogKeyRotated(_logger, kid, previous);
        await RefreshAsync(cancellationToken);
        return (await FindAsync(kid, cancellationToken))!;
    }

    /// <summary>
    /// Removes a key at once: it verifies nothing from now on and its private part is erased. Removing the active key
    /// (a compromise) makes a new one active. Returns false when no such key is in use.
    /// </summary>
    public async Task<bool> RemoveAsync(string kid, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(kid);
        bool wasActive;
        await using (var command = _dataSource.CreateCommand("""
            UPDATE outpost_signing_keys AS k
               SET removed_at = @now, retired_at = coalesce(k.retired_at, @now), private_key_encrypted = '\x'::bytea
              FROM outpost_signing_keys AS old
             WHERE k.kid = @kid AND old.kid = k.kid AND k.removed_at IS NULL
            RETURNING old.retired_at IS NULL
            """))
        {
            command.Parameters.AddWithValue("kid", kid);
            command.Parameters.AddWithValue("now", _timeProvider.GetUtcNow());
            var result = await command.ExecuteScalarAsync(cancellationToken);
            if (result is not bool active)
            {
                return false;
            }

            wasActive = active;
        }

        LogKeyRemoved(_logger, kid);
        if (wasActive)
        {
            await EnsureActiveKeyAsync(cancellationToken);
        }

        await RefreshAsync(cancellationToken);
        return true;
    }

    /// <summary>Every key ever created, newest first.</summary>
    public async Task<IReadOnlyList<SigningKeyInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        var keys = new List<SigningKeyInfo>();
        await using var command = _dataSource.CreateCommand(
            "SELECT kid, algorithm, created_at, retired_at, removed_at FROM outpost_signing_keys ORDER BY created_at DESC, kid");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            keys.Add(ReadInfo(reader));
        }

        return keys;
    }

    public async Task<SigningKeyInfo?> FindAsync(string kid, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand(
            "SELECT kid, algorithm, created_at, retired_at, removed_at FROM outpost_signing_keys WHERE kid = @kid");
        command.Parameters.AddWithValue("kid", kid);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadInfo(reader) : null;
    }

    /// <summary>
    /// Removes retired keys whose grace has passed, then rereads the keys in use and replaces the snapshot. Throws
    /// <see cref="StartupConfigurationException"/> when the master key cannot open the active key.
    /// </summary>
    public async Task RefreshAsync(CancellationToken cancellationToken = default)
    {
        await _refreshLock.WaitAsync(cancellationToken);
        try
        {
            var now = _timeProvider.GetUtcNow();
            await using (var expire = _dataSource.CreateCommand("""
                UPDATE outpost_signing_keys SET removed_at = @now, private_key_encrypted = '\x'::bytea
                 WHERE removed_at IS NULL AND retired_at IS NOT NULL AND retired_at < @cutoff
                RETURNING kid
                """))
            {
                expire.Parameters.AddWithValue("now", now);
                expire.Parameters.AddWithValue("cutoff", now - RetiredKeyGrace);
                var expired = new List<string>();
                await using (var reader = await expire.ExecuteReaderAsync(cancellationToken))
                {
                    while (await reader.ReadAsync(cancellationToken))
                    {
                        expired.Add(reader.GetString(0));
                    }
                }

                foreach (var kid in expired)
                {
                    LogKeyExpired(_logger, kid);
                }
            }

            var rows = new List<KeyRow>();
            await using (var command = _dataSource.CreateCommand(
                $"SELECT {ColumnsSql} FROM outpost_signing_keys WHERE removed_at IS NULL ORDER BY created_at DESC, kid"))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    rows.Add(new KeyRow(
                        reader.GetString(0),
                        reader.GetString(1),
                        reader.GetString(2),
                        reader.GetFieldValue<byte[]>(3),
                        reader.GetFieldValue<byte[]>(4),
                        reader.IsDBNull(6)));
                }
            }

            _snapshot = BuildSnapshot(rows, _snapshot, now);
        }
        finally
        {
            _refreshLock.Release();
        }
    }

    private Snapshot BuildSnapshot(List<KeyRow> rows, Snapshot previous, DateTimeOffset now)
    {
        var validationKeys = new List<SecurityKey>();
        var jwks = new StringBuilder("{\"keys\":[");
        SigningCredentials? signer = null;
        foreach (var row in rows)
        {
            if (!string.Equals(row.Algorithm, Algorithm, StringComparison.Ordinal))
            {
                LogUnsupportedKey(_logger, row.Kid, row.Algorithm);
                continue;
            }

            validationKeys.Add(PublicKey(row));
            if (validationKeys.Count > 1)
            {
                jwks.Append(',');
            }

            jwks.Append(row.PublicJwk);
            if (row.Active)
            {
                signer = previous.Signer is { } known && string.Equals(known.Key.KeyId, row.Kid, StringComparison.Ordinal)
                    ? known
                    : OpenPrivateKey(row);
            }
        }

        var json = jwks.Append("]}").ToString();
        return new Snapshot(validationKeys, new JsonWebKeySet(json), json, signer, now);
    }

    private SigningCredentials OpenPrivateKey(KeyRow row)
    {
        byte[] pkcs8;
        try
        {
            pkcs8 = _masterKey.Decrypt(row.PrivateKeyEncrypted, row.Nonce, row.Kid);
        }
        catch (CryptographicException ex)
        {
            throw new StartupConfigurationException(
                $"{SecurityOptions.Section}:{nameof(SecurityOptions.MasterKeyFile)}: the master key does not open signing key '{row.Kid}'; "
                + "it is not the key this database was set up with.",
                ex);
        }

        try
        {
            var ecdsa = ECDsa.Create();
            ecdsa.ImportPkcs8PrivateKey(pkcs8, out _);
            return new SigningCredentials(new ECDsaSecurityKey(ecdsa) { KeyId = row.Kid }, Algorithm);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    private static ECDsaSecurityKey PublicKey(KeyRow row)
    {
        using var document = JsonDocument.Parse(row.PublicJwk);
        var root = document.RootElement;
        var parameters = new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint
            {
                X = Base64UrlEncoder.DecodeBytes(root.GetProperty("x").GetString()),
                Y = Base64UrlEncoder.DecodeBytes(root.GetProperty("y").GetString()),
            },
        };
        return new ECDsaSecurityKey(ECDsa.Create(parameters)) { KeyId = row.Kid };
    }

    private async Task<string> InsertNewKeyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var publicParameters = ecdsa.ExportParameters(includePrivateParameters: false);
        var x = Base64UrlEncoder.Encode(publicParameters.Q.X);
        var y = Base64UrlEncoder.Encode(publicParameters.Q.Y);

        // The kid is the RFC 7638 thumbprint of the public key: stable, unique and meaningless.
        var canonical = $$"""{"crv":"P-256","kty":"EC","x":"{{x}}","y":"{{y}}"}""";
        var kid = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
        var publicJwk = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["kty"] = "EC",
            ["use"] = "sig",
            ["alg"] = Algorithm,
            ["kid"] = kid,
            ["crv"] = "P-256",
            ["x"] = x,
            ["y"] = y,
        });

        var pkcs8 = ecdsa.ExportPkcs8PrivateKey();
        byte[] ciphertext;
        byte[] nonce;
        try
        {
            (ciphertext, nonce) = _masterKey.Encrypt(pkcs8, kid);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }

        await using var insert = new NpgsqlCommand("""
            INSERT INTO outpost_signing_keys (kid, algorithm, public_jwk, private_key_encrypted, nonce, created_at)
            VALUES (@kid, @algorithm, @jwk, @key, @nonce, @now)
            """, connection, transaction);
        insert.Parameters.AddWithValue("kid", kid);
        insert.Parameters.AddWithValue("algorithm", Algorithm);
        insert.Parameters.AddWithValue("jwk", NpgsqlDbType.Jsonb, publicJwk);
        insert.Parameters.AddWithValue("key", ciphertext);
        insert.Parameters.AddWithValue("nonce", nonce);
        insert.Parameters.AddWithValue("now", _timeProvider.GetUtcNow());
        await insert.ExecuteNonQueryAsync(cancellationToken);
        return kid;
    }

    // Serializes key changes across gateways and the CLI; reads are not blocked.
    private static async Task LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "LOCK TABLE outpost_signing_keys IN SHARE ROW EXCLUSIVE MODE", connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static SigningKeyInfo ReadInfo(NpgsqlDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetFieldValue<DateTimeOffset>(2),
        reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3),
        reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4));

    private sealed record KeyRow(string Kid, string Algorithm, string PublicJwk, byte[] PrivateKeyEncrypted, byte[] Nonce, bool Active);

    private sealed record Snapshot(
        IReadOnlyCollection<SecurityKey> ValidationKeys,
        JsonWebKeySet KeySet,
        string KeySetJson,
        SigningCredentials? Signer,
        DateTimeOffset? RefreshedAt)
    {
        public static Snapshot Empty { get; } = new([], new JsonWebKeySet(), """{"keys":[]}""", null, null);
    }
}
