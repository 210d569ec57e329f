using System.ComponentModel.DataAnnotations;

namespace Outpost.Execution.Artifacts;

/// <summary>Artifact storage limits. Section <c>Artifacts</c>.</summary>
public sealed class ArtifactStoreOptions
{
    public const string Section = "Artifacts";

    /// <summary>The largest artifact, in bytes (default 256 MiB).</summary>
    [Range(1, long.MaxValue, ErrorMessage = "must be a positive number of bytes.")]
    public long MaxArtifactBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>What one tenant may store in total, in bytes (default 4 GiB).</summary>
    [Range(1, long.MaxValue, ErrorMessage = "must be a positive number of bytes.")]
    public long MaxTenantBytes { get; set; } = 4L * 1024 * 1024 * 1024;

    /// <summary>The size of a stored chunk (default 1 MiB): what an upload holds in memory at once.</summary>
    [Range(4096, 16 * 1024 * 1024, ErrorMessage = "must be from 4096 to 16777216 bytes.")]
    public int ChunkBytes { get; set; } = 1024 * 1024;
}
