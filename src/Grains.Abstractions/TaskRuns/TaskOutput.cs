namespace Outpost.Grains.TaskRuns;

/// <summary>A file a run produced, stored as an artifact.</summary>
/// <param name="Path">Its relative path in the work directory, as the manifest named it.</param>
/// <param name="Digest">Its <c>sha256:&lt;hex&gt;</c> digest.</param>
/// <param name="Size">Its size in bytes.</param>
[GenerateSerializer, Immutable, Alias("outpost.TaskOutput")]
public sealed record TaskOutput(
    [property: Id(0)] string Path,
    [property: Id(1)] string Digest,
    [property: Id(2)] long Size);
