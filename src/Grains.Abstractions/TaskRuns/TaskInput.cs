namespace Outpost.Grains.TaskRuns;

/// <summary>An input artifact and where it goes in the work directory.</summary>
/// <param name="Digest">The artifact's <c>sha256:&lt;hex&gt;</c> digest.</param>
/// <param name="Path">A relative path under the work directory: the file's name, or the directory a tarball unpacks into (<c>.</c> for the top).</param>
/// <param name="Unpack">True to unpack a tar (optionally gzip-compressed) archive at <see cref="Path"/>; false to place the file there.</param>
[GenerateSerializer, Immutable, Alias("outpost.TaskInput")]
public sealed record TaskInput(
    [property: Id(0)] string Digest,
    [property: Id(1)] string Path,
    [property: Id(2)] bool Unpack);
