using System.ComponentModel.DataAnnotations;

namespace Outpost.Gateway.Messages;

/// <summary>
/// The cloud upstream for <c>POST /v1/messages</c>: Anthropic's Messages API (or anything that speaks it). Section
/// <c>Cloud:Anthropic</c>. The key is needed only when a request actually goes to the cloud; it is never logged and
/// never sent anywhere but <see cref="BaseUrl"/>.
/// </summary>
public sealed class AnthropicUpstreamOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Cloud:Anthropic";

    /// <summary>The upstream's base URL, without <c>/v1</c>.</summary>
    [Required(ErrorMessage = "must be set to the upstream's base URL, e.g. https://api.anthropic.com.")]
    [Url(ErrorMessage = "must be an absolute http(s) URL.")]
    public string BaseUrl { get; set; } = "https://api.anthropic.com";

    /// <summary>The upstream API key. Without it, cloud models answer 503 and edge models still work.</summary>
    public string? ApiKey { get; set; }

    /// <summary>How long one attempt may take, up to the end of its response.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "must be from 00:00:01 to 01:00:00.")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Retries of an attempt that timed out or got 429/5xx/529, with exponential backoff. Only before the first byte
    /// of the answer reached our caller: after that, a failure is reported in the stream.
    /// </summary>
    [Range(0, 10, ErrorMessage = "must be from 0 to 10.")]
    public int MaxRetries { get; set; } = 2;
}
