using System.Security.Cryptography;
using Npgsql;
using Outpost.ServiceDefaults.Security;
using Outpost.Grains.AuditLogs;

namespace Outpost.AuditLog.Signing;

/// <summary>
/// Signs checkpoints with the control plane's audit key: ECDSA P-256, created on first use and kept in
/// <c>outpost_audit_keys</c> with its private part sealed by the <see cref="MasterKey"/>. Every control silo signs with
/// the newest key, checked before each signature, so a rotation (<see cref="RotateAsync"/>) takes effect at the next
/// checkpoint everywhere; older keys stay in the table, append-only, and keep verifying what they signed. An advisory
/// lock keeps two silos starting together from creating two keys.
/// </summary>
public sealed class AuditSigner(NpgsqlDataSource dataSource, MasterKey masterKey, TimeProvider time) : IDisposable
{
    /// <summary>The algorithm name stored with each key and published with it.</summary>
    public const string Algorithm = "ECDSA-P256-SHA256";

    private const string NewestKeySql = "SELECT key_id FROM outpost_audit_keys ORDER BY created_at DESC, key_id DESC LIMIT 1";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private ECDsa? _key;
    private string? _keyId;

    /// <summary>Makes a new key the one that signs from the next checkpoint on; returns its id.</summary>
    public async Task<string> RotateAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockKeysAsync(connection, transaction, cancellationToken);
        var (key, keyId) = await CreateAsync(connection, transaction, cancellationToken);
        key.Dispose();
        await transaction.CommitAsync(cancellationToken);
        return keyId;
    }

    /// <summary>Every audit key's public facts, newest first; the first is the one that signs.</summary>
    public static async Task<IReadOnlyList<AuditKeyInfo>> ListAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var command = dataSource.CreateCommand(
            "SELECT key_id, algorithm, created_at, public_key FROM outpost_audit_keys ORDER BY created_at DESC, key_id DESC");
        var keys = new List<AuditKeyInfo>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            keys.Add(new AuditKeyInfo(
                reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2), (byte[])reader[3], Signing: keys.Count == 0));
        }

        return keys;
    }

    /// <summary>Signs the log of <paramref name="tenant"/> at <paramref name="treeSize"/> with root <paramref name="rootHash"/>, now.</summary>
    public async Task<AuditCheckpoint> SignAsync(string tenant, long treeSize, byte[] rootHash, CancellationToken cancellationToken = default)
    {
        var (key, keyId) = await GetKeyAsync(cancellationToken);
        var now = time.GetUtcNow();
        var signedAt = new DateTimeOffset(now.UtcTicks - (now.UtcTicks % 10), TimeSpan.Zero);
        var text = AuditCheckpoint.FormatSignedText(tenant, treeSize, rootHash, signedAt);
        var signature = key.SignData(text, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return new AuditCheckpoint(tenant, treeSize, rootHash, signedAt, keyId, signature);
    }

    /// <summary>The id of a public key: the first 16 hex digits of SHA-256 of its SubjectPublicKeyInfo.</summary>
    public static string KeyIdOf(ReadOnlySpan<byte> subjectPublicKeyInfo) =>
        Convert.ToHexStringLower(SHA256.HashData(subjectPublicKeyInfo))[..16];

    /// <summary>Every audit public key (SubjectPublicKeyInfo DER) by key id; what verifiers need, and no secret.</summary>
    public static async Task<IReadOnlyDictionary<string, byte[]>> ReadPublicKeysAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken = default) =>
        (await ListAsync(dataSource, cancellationToken)).ToDictionary(key => key.KeyId, key => key.PublicKey, StringComparer.Ordinal);

    /// <summary>Checks a checkpoint's signature against a public key (SubjectPublicKeyInfo DER).</summary>
    public static bool Verify(AuditCheckpoint checkpoint, ReadOnlySpan<byte> subjectPublicKeyInfo)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        using var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(subjectPublicKeyInfo, out _);
        return key.VerifyData(checkpoint.SignedText, checkpoint.Signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    public void Dispose()
    {
        _key?.Dispose();
        _gate.Dispose();
    }

    private async Task<(ECDsa Key, string KeyId)> GetKeyAsync(CancellationToken cancellationToken)
    {
        // One small query per signature (a checkpoint per tenant per interval at most) keeps every silo on the newest key.
        string? newest;
        await using (var command = dataSource.CreateCommand(NewestKeySql))
        {
            newest = await command.ExecuteScalarAsync(cancellationToken) as string;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_key is null || newest is null || newest != _keyId)
            {
                // The replaced key is not disposed: a signature of another tenant may still be using it; its handle
                // is released when it is collected.
                (_key, _keyId) = await LoadOrCreateAsync(cancellationToken);
            }

            return (_key, _keyId!);
        }
        finally
        {
            _gate.Release();
        }
    }

    private static async Task LockKeysAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext('outpost_audit_keys'))", connection, transaction);
        await lockCommand.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<(ECDsa Key, string KeyId)> LoadOrCreateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockKeysAsync(connection, transaction, cancellationToken);
        await using (var select = new NpgsqlCommand(
            "SELECT key_id, private_key, nonce FROM outpost_audit_keys ORDER BY created_at DESC, key_id DESC LIMIT 1", connection, transaction))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken))
            {
                var keyId = reader.GetString(0);
                byte[] pkcs8;
                try
                {
                    pkcs8 = masterKey.Decrypt((byte[])reader[1], (byte[])reader[2], keyId);
                }
                catch (AuthenticationTagMismatchException ex)
                {
                    throw new InvalidOperationException(
                        $"{MasterKey.FileKey}: the master key does not open audit key '{keyId}'; use the key file it was sealed with.", ex);
                }

                var key = ECDsa.Create();
                key.ImportPkcs8PrivateKey(pkcs8, out _);
                CryptographicOperations.ZeroMemory(pkcs8);
                return (key, keyId);
            }
        }

        var result = await CreateAsync(connection, transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    private async Task<(ECDsa Key, string KeyId)> CreateAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var created = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var publicKey = created.ExportSubjectPublicKeyInfo();
        var createdId = KeyIdOf(publicKey);
        var privateKey = created.ExportPkcs8PrivateKey();
        var (sealedKey, nonce) = masterKey.Encrypt(privateKey, createdId);
        CryptographicOperations.ZeroMemory(privateKey);
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO outpost_audit_keys (key_id, algorithm, public_key, private_key, nonce) VALUES (@kid, @alg, @public, @private, @nonce)",
            connection,
            transaction))
        {
            insert.Parameters.AddWithValue("kid", createdId);
            insert.Parameters.AddWithValue("alg", Algorithm);
            insert.Parameters.AddWithValue("public", publicKey);
            insert.Parameters.AddWithValue("private", sealedKey);
            insert.Parameters.AddWithValue("nonce", nonce);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        return (created, createdId);
    }
}
