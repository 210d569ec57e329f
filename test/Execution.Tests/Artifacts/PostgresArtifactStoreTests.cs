using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Outpost.Execution.Artifacts;
using Outpost.ServiceDefaults.Schema;
using Outpost.Testing.PostgreSql;
using Xunit;

namespace Outpost.Execution.Tests.Artifacts;

/// <summary>The artifact store against a real PostgreSQL, with small chunks so that every artifact spans several.</summary>
public sealed class PostgresArtifactStoreTests(PostgreSqlFixture postgres) : IClassFixture<PostgreSqlFixture>
{
    private const int Chunk = 4096;

    [Fact]
    public async Task Put_StreamsInChunks_AndReadsBackWholeAndByRange()
    {
        var (store, _) = await StoreAsync();
        var content = RandomNumberGenerator.GetBytes(Chunk * 5 + 123);
        var stored = await store.PutAsync("tenant-a", new TrickleStream(content), ArtifactInfo.Uploaded, "alice");
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(content)), stored.Digest);
        Assert.Equal(content.Length, stored.Size);

        using var whole = new MemoryStream();
        await store.CopyToAsync(stored.Digest, whole);
        Assert.Equal(content, whole.ToArray());
        Assert.Equal(content.AsSpan(Chunk - 10, 3000).ToArray(), await store.ReadAsync(stored.Digest, Chunk - 10, 3000));
        Assert.Equal(content.AsSpan(content.Length - 5).ToArray(), await store.ReadAsync(stored.Digest, content.Length - 5, 1000));
        Assert.Empty(await store.ReadAsync(stored.Digest, content.Length, 10));
    }

    [Fact]
    public async Task Put_SameContentTwiceAndByAnotherTenant_StoresItOnceAndEachTenantSeesOnlyItsOwn()
    {
        var (store, connectionString) = await StoreAsync();
        var content = RandomNumberGenerator.GetBytes(Chunk * 2);
        var first = await store.PutAsync("tenant-a", new MemoryStream(content), ArtifactInfo.Uploaded, "alice");
        var again = await store.PutAsync("tenant-a", new MemoryStream(content), ArtifactInfo.Uploaded, "alice");
        Assert.Equal(first.Digest, again.Digest);
        Assert.Null(await store.FindAsync("tenant-b", first.Digest));

        var theirs = await store.PutAsync("tenant-b", new MemoryStream(content), ArtifactInfo.ProducedBy("run_1"), "dev-pi-1");
        Assert.Equal("task:run_1", theirs.Origin);
        Assert.Equal(1L, await ScalarAsync(connectionString, "SELECT count(*) FROM outpost_artifact_blobs"));
        Assert.Equal(2L, await ScalarAsync(connectionString, "SELECT count(*) FROM outpost_artifact_chunks"));
    }

    [Fact]
    public async Task Put_PastTheArtifactOrTenantLimit_IsRefusedAndStoresNothing()
    {
        var (store, connectionString) = await StoreAsync(maxArtifact: Chunk * 3, maxTenant: Chunk * 4);
        var tooBig = await Assert.ThrowsAsync<ArtifactTooLargeException>(() =>
            store.PutAsync("tenant-a", new MemoryStream(new byte[Chunk * 3 + 1]), ArtifactInfo.Uploaded, "alice"));
        Assert.Equal(Chunk * 3, tooBig.Limit);
        Assert.Equal(0L, await ScalarAsync(connectionString, "SELECT count(*) FROM outpost_artifact_chunks"));

        await store.PutAsync("tenant-a", new MemoryStream(RandomNumberGenerator.GetBytes(Chunk * 3)), ArtifactInfo.Uploaded, "alice");
        var full = await Assert.ThrowsAsync<ArtifactTooLargeException>(() =>
            store.PutAsync("tenant-a", new MemoryStream(RandomNumberGenerator.GetBytes(Chunk * 2)), ArtifactInfo.Uploaded, "alice"));
        Assert.Equal(Chunk * 4, full.Limit);
        Assert.Equal(Chunk * 3L, await store.TenantBytesAsync("tenant-a"));

        // Another tenant's room is its own.
        await store.PutAsync("tenant-b", new MemoryStream(RandomNumberGenerator.GetBytes(Chunk * 2)), ArtifactInfo.Uploaded, "bob");
    }

    private async Task<(PostgresArtifactStore Store, string ConnectionString)> StoreAsync(long maxArtifact = 1 << 30, long maxTenant = 1L << 32)
    {
        var connectionString = await postgres.Server.CreateDatabaseAsync();
        await new SchemaMigrator(connectionString, NullLogger<SchemaMigrator>.Instance).MigrateAsync();
        var dataSource = NpgsqlDataSource.Create(connectionString);
        return (new PostgresArtifactStore(dataSource, Options.Create(new ArtifactStoreOptions { ChunkBytes = Chunk, MaxArtifactBytes = maxArtifact, MaxTenantBytes = maxTenant })), connectionString);
    }

    private static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>A body that arrives a few bytes at a time, as a slow upload does.</summary>
    private sealed class TrickleStream(byte[] content) : MemoryStream(content)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 777));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, 777)], cancellationToken);
    }
}
