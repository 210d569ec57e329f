using System.Security.Cryptography;
using System.Text;
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
/// A key is trusted for its endorsement, not for being a row: each carries an HMAC of its id, algorithm and public key
/// under a key derived from the master key (or was recorded before endorsements, migration 0010). A row without a valid
/// one is ignored for signing, left out of the published list and rejected by verification.
/// </summary>
public sealed class AuditSigner(NpgsqlDataSource dataSource, MasterKey masterKey, TimeProvider time) : IDisposable
{
    /// <summary>The algorithm name stored with each key and published with it.</summary>
    public const string Algorithm = "ECDSA-P256-SHA256";

    private const string KeysSql = """
        SELECT k.key_id, k.algorithm, k.created_at, k.public_key, k.endorsement, l.public_key
          FROM outpost_audit_keys AS k
          LEFT JOIN outpost_audit_legacy_keys AS l ON l.key_id = k.key_id
         ORDER BY k.created_at DESC, k.key_id DESC
        """;

    private const string EndorsementPurpose = "outpost.audit.key-endorsement/v1";

    private readonly byte[] _endorsementKey = masterKey.DeriveKey(EndorsementPurpose);
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

    /// <summary>
    /// Every row of the key table, newest first, each marked <see cref="AuditKeyInfo.Endorsed"/> or not; the newest
    /// endorsed one is the one that signs.
    /// </summary>
    public async Task<IReadOnlyList<AuditKeyInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(KeysSql);
        var keys = new List<AuditKeyInfo>();
        var signing = false;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var keyId = reader.GetString(0);
            var algorithm = reader.GetString(1);
            var publicKey = (byte[])reader[3];
            var endorsed = reader.IsDBNull(4)
                ? !reader.IsDBNull(5) && CryptographicOperations.FixedTimeEquals((byte[])reader[5], publicKey)
                : CryptographicOperations.FixedTimeEquals((byte[])reader[4], Endorse(keyId, algorithm, publicKey));
            keys.Add(new AuditKeyInfo(keyId, algorithm, reader.GetFieldValue<DateTimeOffset>(2), publicKey, Signing: endorsed && !signing, endorsed));
            signing |= endorsed;
        }

        return keys;
    }

    /// <summary>Every endorsed audit public key (SubjectPublicKeyInfo DER) by key id; what verifiers trust, and no secret.</summary>
    public async Task<IReadOnlyDictionary<string, byte[]>> ReadTrustedPublicKeysAsync(CancellationToken cancellationToken = default) =>
        (await ListAsync(cancellationToken)).Where(key => key.Endorsed).ToDictionary(key => key.KeyId, key => key.PublicKey, StringComparer.Ordinal);

    /// <summary>Signs a prune of <paramref name="tenant"/>'s log below <paramref name="treeSize"/>; returns the key id and signature.</summary>
    public async Task<(string KeyId, byte[] Signature)> SignPruneAsync(
        string tenant, long treeSize, IReadOnlyList<byte[]> compactRange, CancellationToken cancellationToken = default)
    {
        var (key, keyId) = await GetKeyAsync(cancellationToken);
        return (keyId, key.SignData(PruneText(tenant, treeSize, compactRange), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
    }

    /// <summary>Checks a prune's signature against a public key (SubjectPublicKeyInfo DER).</summary>
    public static bool VerifyPrune(string tenant, long treeSize, IReadOnlyList<byte[]> compactRange, ReadOnlySpan<byte> signature, ReadOnlySpan<byte> subjectPublicKeyInfo)
    {
        using var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(subjectPublicKeyInfo, out _);
        return key.VerifyData(PruneText(tenant, treeSize, compactRange), signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
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
        CryptographicOperations.ZeroMemory(_endorsementKey);
        _gate.Dispose();
    }

    private static byte[] PruneText(string tenant, long treeSize, IReadOnlyList<byte[]> compactRange)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenant);
        ArgumentNullException.ThrowIfNull(compactRange);
        return Encoding.UTF8.GetBytes(
            $"outpost.audit.prune/v1\n{tenant}\n{treeSize.ToString(System.Globalization.CultureInfo.InvariantCulture)}\n{Convert.ToBase64String(compactRange.SelectMany(hash => hash).ToArray())}\n");
    }

    private byte[] Endorse(string keyId, string algorithm, byte[] publicKey) =>
        HMACSHA256.HashData(_endorsementKey, Encoding.UTF8.GetBytes($"outpost.audit.key/v1\n{keyId}\n{algorithm}\n{Convert.ToBase64String(publicKey)}\n"));

    private async Task<(ECDsa Key, string KeyId)> GetKeyAsync(CancellationToken cancellationToken)
    {
        // One small query per signature (a checkpoint per tenant per interval at most) keeps every silo on the newest key.
        var newest = (await ListAsync(cancellationToken)).FirstOrDefault(key => key.Signing)?.KeyId;

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
        // Only an endorsed key signs: a row someone inserted without the master key is never picked, so it cannot stop
        // the signer either (its private part would not open).
        var newest = (await ListAsync(cancellationToken)).FirstOrDefault(key => key.Signing)?.KeyId;
        await using (var select = new NpgsqlCommand(
            "SELECT key_id, private_key, nonce FROM outpost_audit_keys WHERE key_id = @kid", connection, transaction))
        {
            select.Parameters.AddWithValue("kid", newest ?? string.Empty);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            if (newest is not null && await reader.ReadAsync(cancellationToken))
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
            "INSERT INTO outpost_audit_keys (key_id, algorithm, public_key, private_key, nonce, endorsement) VALUES (@kid, @alg, @public, @private, @nonce, @endorsement)",
            connection,
            transaction))
        {
            insert.Parameters.AddWithValue("kid", createdId);
            insert.Parameters.AddWithValue("alg", Algorithm);
            insert.Parameters.AddWithValue("public", publicKey);
            insert.Parameters.AddWithValue("private", sealedKey);
            insert.Parameters.AddWithValue("nonce", nonce);
            insert.Parameters.AddWithValue("endorsement", Endorse(createdId, Algorithm, publicKey));
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        return (created, createdId);
    }
}
