using System.ComponentModel.DataAnnotations;

namespace Outpost.Gateway.Spending;

/// <summary>
/// What work costs, in micro-dollars, per target. Section <c>Pricing</c>. Edge prices are chargeback (device time and
/// tokens, for teams that bill internally); zero means edge work is free at the margin.
/// </summary>
public sealed class PricingOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Pricing";

    /// <summary>Per request served by an edge device (a flat charge for its time).</summary>
    [Range(0, 1_000_000_000, ErrorMessage = "must be from 0 to 1000000000 micro-dollars.")]
    public long EdgeRequestMicros { get; set; }

    /// <summary>Per embedded input token on an edge device.</summary>
    [Range(0, 1_000_000, ErrorMessage = "must be from 0 to 1000000 micro-dollars.")]
    public long EdgeEmbeddingTokenMicros { get; set; }

    /// <summary>Per generated or read token on an edge device's LLM.</summary>
    [Range(0, 1_000_000, ErrorMessage = "must be from 0 to 1000000 micro-dollars.")]
    public long EdgeGenerationTokenMicros { get; set; }

    /// <summary>Cloud models by name: input and output price per million tokens, in micro-dollars.</summary>
    public Dictionary<string, CloudModelPrice> CloudModels { get; set; } = new(StringComparer.Ordinal);
}
