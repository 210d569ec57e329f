namespace Outpost.Identity;

/// <summary>A request to an identity store that cannot be carried out as asked; the message is safe to show the caller.</summary>
public sealed class IdentityStoreException : Exception
{
    public IdentityStoreException()
    {
    }

    public IdentityStoreException(string message)
        : base(message)
    {
    }

    public IdentityStoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public IdentityStoreException(IdentityError error, string message)
        : base(message)
    {
        Error = error;
    }

    public IdentityError Error { get; } = IdentityError.Invalid;
}
