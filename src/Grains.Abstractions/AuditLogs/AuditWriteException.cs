namespace Outpost.Grains.AuditLogs;

/// <summary>Audit events could not be made durable; the message says why. Retrying the same events is safe.</summary>
[GenerateSerializer, Alias("outpost.AuditWriteException")]
public sealed class AuditWriteException : Exception
{
    public AuditWriteException()
    {
    }

    public AuditWriteException(string message)
        : base(message)
    {
    }

    public AuditWriteException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
