namespace Outpost.Grains.AuditLogs;

/// <summary>
/// The stored log no longer agrees with its latest signed checkpoint, so the grain refuses to sign anything more over
/// it: a new checkpoint would vouch for the tampered history. Appends still work; verification names the first bad event.
/// </summary>
[GenerateSerializer, Alias("outpost.AuditIntegrityException")]
public sealed class AuditIntegrityException : Exception
{
    public AuditIntegrityException()
    {
    }

    public AuditIntegrityException(string message)
        : base(message)
    {
    }

    public AuditIntegrityException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
