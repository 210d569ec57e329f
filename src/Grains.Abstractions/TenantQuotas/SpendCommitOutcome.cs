namespace Outpost.Grains.TenantQuotas;

/// <summary>What a commit did.</summary>
public enum SpendCommitOutcome
{
    /// <summary>The charge was recorded in the ledger and added to the period's committed spend.</summary>
    Committed = 0,

    /// <summary>The reservation had been committed before (a retried commit); the earlier charge is returned.</summary>
    AlreadyCommitted = 1,

    /// <summary>No open reservation has that id: it expired, was released, or never existed. Nothing was charged.</summary>
    NotFound = 2,
}
