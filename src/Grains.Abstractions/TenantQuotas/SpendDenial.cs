namespace Outpost.Grains.TenantQuotas;

/// <summary>Why a reservation was refused.</summary>
public enum SpendDenial
{
    /// <summary>Not refused.</summary>
    None = 0,

    /// <summary>The tenant has no limits set, and paid work needs a budget.</summary>
    NoLimits = 1,

    /// <summary>The tenant's budget for the period cannot cover the reservation.</summary>
    BudgetExhausted = 2,

    /// <summary>The client's sub-budget for the period cannot cover the reservation.</summary>
    ClientBudgetExhausted = 3,

    /// <summary>The task kind's sub-budget for the period cannot cover the reservation.</summary>
    KindBudgetExhausted = 4,

    /// <summary>The tenant made its requests-per-minute allowance in the last 60 seconds.</summary>
    RequestRateExceeded = 5,

    /// <summary>The tenant used its tokens-per-minute allowance in the last 60 seconds.</summary>
    TokenRateExceeded = 6,
}
