namespace Outpost.AuditLog.Verification;

/// <summary>
/// What verification found wrong. On the wire (the API's JSON, the CLI's output) each is its snake_case name, e.g.
/// <c>changed_event</c>; <see cref="AuditProblemKinds.WireName"/> gives it.
/// </summary>
public enum AuditProblemKind
{
    /// <summary>A row was deleted: the next stored event is not the next position.</summary>
    MissingEvent,

    /// <summary>A field was edited or a row moved: its leaf hash no longer matches (or differs from what the grain wrote).</summary>
    ChangedEvent,

    /// <summary>A stored body does not match its digest.</summary>
    BodyMismatch,

    /// <summary>A row lies beyond what the audit log wrote: it was added outside Outpost.</summary>
    ForeignEvent,

    /// <summary>A segment no longer hashes to its checkpoint although each row matches its stored leaf hash.</summary>
    RootMismatch,

    /// <summary>A stored checkpoint's signature does not verify.</summary>
    BadSignature,

    /// <summary>A stored checkpoint names a key that is not an audit key.</summary>
    UnknownKey,

    /// <summary>A stored checkpoint names a key in the key table that carries no endorsement by the master key.</summary>
    UnendorsedKey,
    /// <summary>The latest prune is not signed by an endorsed audit key: events were deleted without authority.</summary>
    UnsignedPrune,
    /// <summary>The stored log ends before a checkpoint's size.</summary>
    Truncated,

    /// <summary>The stored log does not hash to a root the witness recorded.</summary>
    WitnessMismatch,

    /// <summary>A witnessed checkpoint does not verify with any audit key.</summary>
    BadWitness,
}
