namespace Outpost.Execution.Artifacts;

/// <summary>An artifact a tenant can use.</summary>
/// <param name="Digest">Its <c>sha256:</c> digest.</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="Origin">How the tenant got it: <c>upload</c> or <c>task:&lt;run id&gt;</c>.</param>
/// <param name="CreatedBy">Who uploaded it, or the device that produced it.</param>
/// <param name="CreatedAt">When the tenant got it.</param>
public sealed record ArtifactInfo(string Digest, long Size, string Origin, string CreatedBy, DateTimeOffset CreatedAt)
{
    /// <summary>The origin of an artifact a tenant uploaded.</summary>
    public const string Uploaded = "upload";

    /// <summary>The origin of an artifact a run produced.</summary>
    public static string ProducedBy(string runId) => "task:" + runId;
}
