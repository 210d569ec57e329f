using System.ComponentModel.DataAnnotations;

namespace Outpost.Gateway.Spending;

/// <summary>A cloud model's price per million tokens, in micro-dollars (e.g. $3 = 3000000).</summary>
public sealed class CloudModelPrice
{
    [Range(0, long.MaxValue, ErrorMessage = "must be zero or more.")]
    public long InputPerMillionMicros { get; set; }

    [Range(0, long.MaxValue, ErrorMessage = "must be zero or more.")]
    public long OutputPerMillionMicros { get; set; }
}
