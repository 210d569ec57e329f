namespace Outpost.Identity.Clients;

/// <summary>RFC 6749 §2.1 client types.</summary>
public enum ClientKind
{
    /// <summary>Cannot keep a secret (a desktop agent): no secret, uses the device flow.</summary>
    Public,

    /// <summary>A machine that keeps a secret or a certificate: client credentials grant.</summary>
    Confidential,
}
