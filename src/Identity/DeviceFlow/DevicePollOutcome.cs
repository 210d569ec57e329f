namespace Outpost.Identity.DeviceFlow;

/// <summary>The answers to a device's poll of the token endpoint (RFC 8628 §3.5).</summary>
public enum DevicePollOutcome
{
    /// <summary>Approved: issue the token. The code is consumed.</summary>
    Granted,
    AuthorizationPending,
    SlowDown,
    ExpiredToken,
    AccessDenied,

    /// <summary>Unknown code, another client's code, or a code already used.</summary>
    InvalidGrant,
}
