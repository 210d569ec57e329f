namespace Outpost.AuditLog.Reading;

/// <summary>No event of the tenant has the request id asked for.</summary>
public sealed class AuditEventNotFoundException : Exception
{
    public AuditEventNotFoundException()
    {
    }

    public AuditEventNotFoundException(string message)
        : base(message)
    {
    }

    public AuditEventNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
