using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Outpost.Execution.Artifacts;

/// <summary>
/// Artifacts in PostgreSQL: one row per distinct content, its bytes in fixed-size chunks, one reference row per tenant
/// that has it. An upload is one transaction (nothing of a refused or broken upload stays), serialized per tenant so
/// that two uploads cannot both squeeze under the tenant's limit.
/// </summary>
public sealed class PostgresArtifactStore(NpgsqlDataSource dataSource, IOptions<ArtifactStoreOptions> options) : IArtifactStore
{
    public async Task<ArtifactInfo> PutAsync(string tenant, Stream content, string origin, string createdBy, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenant);
        ArgumentNullException.ThrowIfNull(content);
        var limits = options.Value;
        string digest;
        long size = 0;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            await using (var lockTenant = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext('outpost_artifacts:' || @t))", connection, transaction))
            {
                lockTenant.Parameters.AddWithValue("t", tenant);
                await lockTenant.ExecuteNonQueryAsync(cancellationToken);
            }

            var used = await TenantBytesAsync(connection, transaction, tenant, cancellationToken);
            var tenantRoom = limits.MaxTenantBytes - used;
            var limit = Math.Min(limits.MaxArtifactBytes, tenantRoom);
            long blobId;
            await using (var insert = new NpgsqlCommand(
                "INSERT INTO outpost_artifact_blobs (digest, size, chunk_size) VALUES (@d, 0, @c) RETURNING blob_id", connection, transaction))
            {
                insert.Parameters.AddWithValue("d", "pending:" + Guid.NewGuid().ToString("N"));
                insert.Parameters.AddWithValue("c", limits.ChunkBytes);
                blobId = (long)(await insert.ExecuteScalarAsync(cancellationToken))!;
            }

            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = ArrayPool<byte>.Shared.Rent(limits.ChunkBytes);
            try
            {
                var seq = 0;
                while (true)
                {
                    var filled = await FillAsync(content, buffer.AsMemory(0, limits.ChunkBytes), cancellationToken);
                    if (filled == 0)
                    {
                        break;
                    }

                    size += filled;
                    if (size > limit)
                    {
                        throw limit == limits.MaxArtifactBytes
                            ? new ArtifactTooLargeException($"The artifact is larger than the {limits.MaxArtifactBytes} bytes an artifact may have.") { Limit = limits.MaxArtifactBytes }
                            : new ArtifactTooLargeException($"Tenant '{tenant}' stores {used} of its {limits.MaxTenantBytes} bytes; this artifact does not fit.") { Limit = limits.MaxTenantBytes };
                    }

                    hash.AppendData(buffer, 0, filled);
                    await using var chunk = new NpgsqlCommand("INSERT INTO outpost_artifact_chunks (blob_id, seq, data) VALUES (@b, @s, @d)", connection, transaction);
                    chunk.Parameters.AddWithValue("b", blobId);
                    chunk.Parameters.AddWithValue("s", seq++);
                    chunk.Parameters.Add(new NpgsqlParameter("d", NpgsqlTypes.NpgsqlDbType.Bytea) { Value = new ArraySegment<byte>(buffer, 0, filled) });
                    await chunk.ExecuteNonQueryAsync(cancellationToken);
                    if (filled < limits.ChunkBytes)
                    {
                        break;
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            digest = ArtifactDigest.Of(hash.GetHashAndReset());
            var stored = false;
            await using (var existing = new NpgsqlCommand("SELECT 1 FROM outpost_artifact_blobs WHERE digest = @d", connection, transaction))
            {
                existing.Parameters.AddWithValue("d", digest);
                stored = await existing.ExecuteScalarAsync(cancellationToken) is not null;
            }

            if (!stored)
            {
                await using var name = new NpgsqlCommand("UPDATE outpost_artifact_blobs SET digest = @d, size = @s WHERE blob_id = @b", connection, transaction);
                name.Parameters.AddWithValue("d", digest);
                name.Parameters.AddWithValue("s", size);
                name.Parameters.AddWithValue("b", blobId);
                try
                {
                    await name.ExecuteNonQueryAsync(cancellationToken);
                    await AddReferenceAsync(connection, transaction, tenant, digest, origin, createdBy, cancellationToken);
                    await transaction.CommitAsync(cancellationToken);
                    return (await FindAsync(tenant, digest, cancellationToken))!;
                }
                catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
                {
                    // The same bytes finished uploading concurrently: theirs are kept, ours go with the rollback.
                }
            }

            await transaction.RollbackAsync(cancellationToken);
        }

        // The content was already stored: only the reference is new (and it still counts against the tenant).
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            await using (var lockTenant = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext('outpost_artifacts:' || @t))", connection, transaction))
            {
                lockTenant.Parameters.AddWithValue("t", tenant);
                await lockTenant.ExecuteNonQueryAsync(cancellationToken);
            }

            if (await FindAsync(tenant, digest, cancellationToken) is null)
            {
                var used = await TenantBytesAsync(connection, transaction, tenant, cancellationToken);
                if (used + size > limits.MaxTenantBytes)
                {
                    throw new ArtifactTooLargeException($"Tenant '{tenant}' stores {used} of its {limits.MaxTenantBytes} bytes; this artifact does not fit.") { Limit = limits.MaxTenantBytes };
                }

                await AddReferenceAsync(connection, transaction, tenant, digest, origin, createdBy, cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        return (await FindAsync(tenant, digest, cancellationToken))!;
    }

    public async Task<ArtifactInfo?> FindAsync(string tenant, string digest, CancellationToken cancellationToken = default)
    {
        if (!ArtifactDigest.IsValid(digest))
        {
            return null;
        }

        await using var command = dataSource.CreateCommand("""
            SELECT b.size, r.origin, r.created_by, r.created_at
              FROM outpost_artifact_refs AS r JOIN outpost_artifact_blobs AS b ON b.digest = r.digest
             WHERE r.tenant_id = @t AND r.digest = @d
            """);
        command.Parameters.AddWithValue("t", tenant);
        command.Parameters.AddWithValue("d", digest);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new ArtifactInfo(digest, reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3))
            : null;
    }

    public async Task CopyToAsync(string digest, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        // Chunk by chunk, each its own query, so that neither side holds more than one chunk.
        var (blobId, _, _) = await BlobAsync(digest, cancellationToken);
        for (var seq = 0; ; seq++)
        {
            await using var command = dataSource.CreateCommand("SELECT data FROM outpost_artifact_chunks WHERE blob_id = @b AND seq = @s");
            command.Parameters.AddWithValue("b", blobId);
            command.Parameters.AddWithValue("s", seq);
            if (await command.ExecuteScalarAsync(cancellationToken) is not byte[] data)
            {
                return;
            }

            await destination.WriteAsync(data, cancellationToken);
        }
    }

    public async Task<byte[]> ReadAsync(string digest, long offset, int count, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var (blobId, size, chunkSize) = await BlobAsync(digest, cancellationToken);
        var end = Math.Min(size, offset + count);
        if (offset >= end)
        {
            return [];
        }

        var result = new byte[end - offset];
        await using var command = dataSource.CreateCommand("SELECT seq, data FROM outpost_artifact_chunks WHERE blob_id = @b AND seq BETWEEN @first AND @last ORDER BY seq");
        command.Parameters.AddWithValue("b", blobId);
        command.Parameters.AddWithValue("first", (int)(offset / chunkSize));
        command.Parameters.AddWithValue("last", (int)((end - 1) / chunkSize));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var chunkStart = (long)reader.GetInt32(0) * chunkSize;
            var data = (byte[])reader[1];
            var from = Math.Max(offset, chunkStart);
            var to = Math.Min(end, chunkStart + data.Length);
            data.AsSpan((int)(from - chunkStart), (int)(to - from)).CopyTo(result.AsSpan((int)(from - offset)));
        }

        return result;
    }

    public async Task<long> TenantBytesAsync(string tenant, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await TenantBytesAsync(connection, null, tenant, cancellationToken);
    }

    private static async Task<long> TenantBytesAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string tenant, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT COALESCE(SUM(b.size), 0)::bigint FROM outpost_artifact_refs AS r JOIN outpost_artifact_blobs AS b ON b.digest = r.digest WHERE r.tenant_id = @t",
            connection, transaction);
        command.Parameters.AddWithValue("t", tenant);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task AddReferenceAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string tenant, string digest, string origin, string createdBy, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "INSERT INTO outpost_artifact_refs (tenant_id, digest, origin, created_by) VALUES (@t, @d, @o, @c) ON CONFLICT DO NOTHING", connection, transaction);
        command.Parameters.AddWithValue("t", tenant);
        command.Parameters.AddWithValue("d", digest);
        command.Parameters.AddWithValue("o", origin);
        command.Parameters.AddWithValue("c", createdBy);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<(long BlobId, long Size, int ChunkSize)> BlobAsync(string digest, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT blob_id, size, chunk_size FROM outpost_artifact_blobs WHERE digest = @d");
        command.Parameters.AddWithValue("d", digest);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt32(2))
            : throw new FileNotFoundException($"No artifact is stored under {digest}.");
    }

    private static async Task<int> FillAsync(Stream content, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < buffer.Length)
        {
            var read = await content.ReadAsync(buffer[filled..], cancellationToken);
            if (read == 0)
            {
                break;
            }

            filled += read;
        }

        return filled;
    }
}
