using System.Security.Cryptography;
using System.Text;
using Npgsql;
using Outpost.Grains.TaskRuns;
using Outpost.ServiceDefaults.Security;

namespace Outpost.Execution.Signing;

/// <summary>
/// The control plane's long-term task-signing keys: ECDSA P-256, created on first use, kept in <c>outpost_task_keys</c>
/// with the private part sealed by the <see cref="MasterKey"/> and each row endorsed by an HMAC under a key derived from
/// it (a row inserted without the master key is never trusted). The newest endorsed key endorses new runs; rotation
/// (<see cref="RotateAsync"/>) adds a newer one, and older ones stay published so that past attestations keep verifying.
/// </summary>
public sealed class TaskKeyRing(NpgsqlDataSource dataSource, MasterKey masterKey) : IDisposable
{
    private const string EndorsementPurpose = "outpost.task.key-endorsement/v1";

    private readonly byte[] _endorsementKey = masterKey.DeriveKey(EndorsementPurpose);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ECDsa? _key;
    private string? _keyId;

    /// <summary>Every endorsed key, newest first; the first is <see cref="TaskSigningKey.Current"/>.</summary>
    public async Task<IReadOnlyList<TaskSigningKey>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT key_id, algorithm, created_at, public_key, endorsement FROM outpost_task_keys ORDER BY created_at DESC, key_id DESC");
        var keys = new List<TaskSigningKey>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var keyId = reader.GetString(0);
            var publicKey = (byte[])reader[3];
            if (CryptographicOperations.FixedTimeEquals((byte[])reader[4], Endorse(keyId, publicKey)))
            {
                keys.Add(new TaskSigningKey(keyId, reader.GetString(1), publicKey, reader.GetFieldValue<DateTimeOffset>(2), Current: keys.Count == 0));
            }
        }

        return keys;
    }

    /// <summary>Makes a new key the one that endorses runs from now on; returns its id.</summary>
    public async Task<string> RotateAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockAsync(connection, transaction, cancellationToken);
        var (key, keyId) = await CreateAsync(connection, transaction, cancellationToken);
        key.Dispose();
        await transaction.CommitAsync(cancellationToken);
        return keyId;
    }

    /// <summary>Endorses a run's ephemeral public key for <paramref name="device"/> until <paramref name="expiresAt"/>.</summary>
    public async Task<ManifestEndorsement> EndorseAsync(string runId, string device, byte[] ephemeralPublicKey, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        var (key, keyId) = await GetKeyAsync(cancellationToken);
        return new ManifestEndorsement(keyId, TaskSignatures.Sign(key, TaskSignatures.EndorsementText(runId, device, ephemeralPublicKey, expiresAt)));
    }

    public void Dispose()
    {
        _key?.Dispose();
        CryptographicOperations.ZeroMemory(_endorsementKey);
        _gate.Dispose();
    }

    private byte[] Endorse(string keyId, byte[] publicKey) =>
        HMACSHA256.HashData(_endorsementKey, Encoding.UTF8.GetBytes($"outpost.task.key/v1\n{keyId}\n{TaskSignatures.Algorithm}\n{Convert.ToBase64String(publicKey)}\n"));

    private async Task<(ECDsa Key, string KeyId)> GetKeyAsync(CancellationToken cancellationToken)
    {
        // One small query per dispatch keeps every silo on the newest key after a rotation.
        var newest = (await ListAsync(cancellationToken)) is [var first, ..] ? first.KeyId : null;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_key is null || newest is null || newest != _keyId)
            {
                (_key, _keyId) = await LoadOrCreateAsync(cancellationToken);
            }

            return (_key, _keyId!);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<(ECDsa Key, string KeyId)> LoadOrCreateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockAsync(connection, transaction, cancellationToken);
        var newest = (await ListAsync(cancellationToken)) is [var first, ..] ? first.KeyId : null;
        if (newest is not null)
        {
            await using var select = new NpgsqlCommand("SELECT private_key, nonce FROM outpost_task_keys WHERE key_id = @k", connection, transaction);
            select.Parameters.AddWithValue("k", newest);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                byte[] pkcs8;
                try
                {
                    pkcs8 = masterKey.Decrypt((byte[])reader[0], (byte[])reader[1], "task-key:" + newest);
                }
                catch (AuthenticationTagMismatchException ex)
                {
                    throw new InvalidOperationException($"{MasterKey.FileKey}: the master key does not open task-signing key '{newest}'; use the key file it was sealed with.", ex);
                }

                var key = ECDsa.Create();
                key.ImportPkcs8PrivateKey(pkcs8, out _);
                CryptographicOperations.ZeroMemory(pkcs8);
                return (key, newest);
            }
        }

        var created = await CreateAsync(connection, transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return created;
    }

    private async Task<(ECDsa Key, string KeyId)> CreateAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var publicKey = key.ExportSubjectPublicKeyInfo();
        var keyId = TaskSignatures.KeyIdOf(publicKey);
        var pkcs8 = key.ExportPkcs8PrivateKey();
        var (sealedKey, nonce) = masterKey.Encrypt(pkcs8, "task-key:" + keyId);
        CryptographicOperations.ZeroMemory(pkcs8);
        await using var insert = new NpgsqlCommand("""
            INSERT INTO outpost_task_keys (key_id, algorithm, created_at, public_key, private_key, nonce, endorsement)
            VALUES (@k, @a, clock_timestamp(), @p, @s, @n, @e)
            """, connection, transaction);
        insert.Parameters.AddWithValue("k", keyId);
        insert.Parameters.AddWithValue("a", TaskSignatures.Algorithm);
        insert.Parameters.AddWithValue("p", publicKey);
        insert.Parameters.AddWithValue("s", sealedKey);
        insert.Parameters.AddWithValue("n", nonce);
        insert.Parameters.AddWithValue("e", Endorse(keyId, publicKey));
        await insert.ExecuteNonQueryAsync(cancellationToken);
        return (key, keyId);
    }

    private static async Task LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext('outpost_task_keys'))", connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
