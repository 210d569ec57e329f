namespace Outpost.Execution.Artifacts;

/// <summary>
/// Content-addressed artifact storage. Bytes are stored once per digest; a tenant sees an artifact only through its own
/// reference to it. PostgreSQL implements it (<see cref="PostgresArtifactStore"/>); an object store can later.
/// </summary>
public interface IArtifactStore
{
    /// <summary>
    /// Streams <paramref name="content"/> in, holding one chunk in memory at a time, and gives <paramref name="tenant"/> a
    /// reference to it. Throws <see cref="ArtifactTooLargeException"/> (storing nothing) past the artifact or tenant limit.
    /// </summary>
    Task<ArtifactInfo> PutAsync(string tenant, Stream content, string origin, string createdBy, CancellationToken cancellationToken = default);

    /// <summary>The tenant's artifact with this digest, or null when the tenant has none.</summary>
    Task<ArtifactInfo?> FindAsync(string tenant, string digest, CancellationToken cancellationToken = default);

    /// <summary>Writes the whole artifact to <paramref name="destination"/>, chunk by chunk.</summary>
    Task CopyToAsync(string digest, Stream destination, CancellationToken cancellationToken = default);

    /// <summary>Up to <paramref name="count"/> bytes from <paramref name="offset"/>; fewer at the end, none past it.</summary>
    Task<byte[]> ReadAsync(string digest, long offset, int count, CancellationToken cancellationToken = default);

    /// <summary>The bytes the tenant's references add up to.</summary>
    Task<long> TenantBytesAsync(string tenant, CancellationToken cancellationToken = default);
}
